"""Schemas inferred from sample files: types, blanks, dates, keys, a table per sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import Workbook

from algomancy_data import Column, CSVFile, DefaultETLFactory, Schema, XLSXFile
from algomancy_data.inference import infer_schema

MIXED = """\
line,order_id,name,qty,price,active,day,eu_day,us_day,at,code,note,mixed
1,1001,Apple,3,"1,5",true,2026-01-31,31-01-2026,01/31/2026,2026-01-31 08:30,007,,1
2,1002,Pear,,2.25,false,2026-02-01,01-02-2026,02/28/2026,2026-02-01 09:00,012,hello,x
3,1003,Plum,5,3,yes,,15-02-2026,12/01/2026,,100,,2
"""


def described(schema: Schema) -> dict[str, dict[str, tuple[str, bool, bool, object]]]:
    return {
        table: {
            c.name: (c.column_type.value, c.nullable, c.primary_key, c.formats) for c in columns
        }
        for table, columns in schema.tables.items()
    }


def test_a_csv_with_mixed_types_dates_and_blanks(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(MIXED)
    schema = infer_schema(path)
    assert (schema.name, schema.extension, schema.has_sheets) == ("orders", "csv", False)
    assert described(schema)["orders"] == {
        "line": ("integer", False, False, None),
        # a name like *_id is preferred as the key over an earlier unique column
        "order_id": ("integer", False, True, None),
        "name": ("string", False, False, None),
        "qty": ("integer", True, False, None),
        "price": ("float", False, False, None),
        "active": ("boolean", False, False, None),
        "day": ("date", True, False, None),
        "eu_day": ("date", False, False, ("%d-%m-%Y",)),
        "us_day": ("date", False, False, ("%m/%d/%Y",)),
        "at": ("datetime", True, False, None),
        "code": ("string", False, False, None),  # 007 keeps its zeros
        "note": ("string", True, False, None),
        "mixed": ("string", False, False, None),
    }
    # the inferred schema reads the sample it came from
    result = DefaultETLFactory([schema]).run([CSVFile.from_path(path)], "d")
    assert result.is_success, result.messages
    assert result.data_source is not None
    table = result.data_source.get_table("orders")
    assert table["code"].tolist() == ["007", "012", "100"]
    assert table["eu_day"].dt.day.tolist() == [31, 1, 15]
    assert table["price"].tolist() == [1.5, 2.25, 3.0]


def test_an_xlsx_gives_one_table_per_sheet(tmp_path: Path) -> None:
    book = Workbook()
    stock = book.active
    assert stock is not None
    stock.title = "stock"
    stock.append(["sku", "qty", "weight", "since", "checked", "ok", "remark"])
    stock.append(
        ["A", 1, 1.5, dt.datetime(2026, 1, 31), dt.datetime(2026, 1, 31, 8, 30), True, None]
    )
    stock.append(["B", 2, 2.0, dt.datetime(2026, 2, 1), dt.datetime(2026, 2, 1, 9), False, "x"])
    locations = book.create_sheet("locations")
    locations.append(["location", "capacity", "zone"])
    locations.append(["L1", 10, "north"])
    locations.append(["L2", None, "north"])
    path = tmp_path / "warehouse.xlsx"
    book.save(path)
    schema = infer_schema(path)
    assert (schema.name, schema.extension, schema.has_sheets) == ("warehouse", "xlsx", True)
    assert described(schema) == {
        "stock": {
            "sku": ("string", False, True, None),
            "qty": ("integer", False, False, None),
            "weight": ("float", False, False, None),
            "since": ("date", False, False, None),
            "checked": ("datetime", False, False, None),
            "ok": ("boolean", False, False, None),
            "remark": ("string", True, False, None),
        },
        "locations": {
            "location": ("string", False, True, None),
            # whole numbers made floats by a blank are integers
            "capacity": ("integer", True, False, None),
            "zone": ("string", False, False, None),
        },
    }
    result = DefaultETLFactory([schema]).run([XLSXFile.from_path(path)], "d")
    assert result.is_success, result.messages
    assert result.data_source is not None
    assert result.data_source.list_tables() == ["stock", "locations"]


def test_no_key_when_no_column_is_filled_and_unique(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("a,b,c\nx,1,0.5\nx,,0.5\n")
    schema = infer_schema(path)
    assert not any(c.primary_key for c in schema.tables["pairs"])
    assert schema.tables["pairs"][2] == Column("c", "float", nullable=False)


def test_an_empty_column_is_a_nullable_string(tmp_path: Path) -> None:
    path = tmp_path / "sparse.csv"
    path.write_text("id,empty\n1,\n2,\n")
    assert infer_schema(path).tables["sparse"][1] == Column("empty", "string", nullable=True)


def test_other_file_types_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("x")
    with pytest.raises(ValueError, match=r"notes\.txt: cannot infer a schema"):
        infer_schema(path)


def test_a_json_sample_gives_one_table_or_one_per_key(tmp_path: Path) -> None:
    records = tmp_path / "items.json"
    records.write_text(
        '[{"sku": "A", "qty": 1, "ok": true}, {"sku": "B", "qty": null, "ok": false}]'
    )
    schema = infer_schema(records)
    assert not schema.has_sheets
    assert described(schema)["items"] == {
        "sku": ("string", False, True, None),
        "qty": ("integer", True, False, None),
        "ok": ("boolean", False, False, None),
    }
    keyed = tmp_path / "depot.json"
    keyed.write_text('{"zones": [{"zone": "N"}], "docks": [{"dock": 1, "open": "2026-01-31"}]}')
    schema = infer_schema(keyed)
    assert schema.has_sheets and list(schema.tables) == ["zones", "docks"]
    assert described(schema)["docks"]["open"] == ("date", False, False, None)
