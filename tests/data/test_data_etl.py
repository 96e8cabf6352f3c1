from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from algomancy_data import (
    Column,
    CSVFile,
    DataClassification,
    DataSource,
    DefaultETLFactory,
    ETLFactory,
    ETLResult,
    File,
    JSONFile,
    Schema,
    Severity,
    ValidationMessage,
    XLSXFile,
)

SKU = Schema(
    "sku_data",
    extension="csv",
    columns=[
        Column("sku", "string", primary_key=True),
        Column("weight_kg", "float", nullable=False),
        Column("stock", "integer"),
        Column("active", "boolean", required=False),
        Column("since", "date", required=False),
        Column("updated", "datetime", required=False),
        Column("family", "category", required=False, default="misc"),
    ],
)


def csv(text: str, name: str = "sku_data.csv") -> CSVFile:
    return CSVFile.from_bytes(name, text.encode())


def codes(result: ETLResult) -> list[str]:
    return [m.code for m in result.messages if m.severity.is_error]


def only(result: ETLResult, code: str) -> ValidationMessage:
    found = [m for m in result.messages if m.code == code]
    assert len(found) == 1, result.messages
    return found[0]


def test_good_file_is_coerced_to_the_declared_types() -> None:
    result = DefaultETLFactory([SKU]).run(
        [
            csv(
                "sku,weight_kg,stock,active,since,updated\n"
                "007,1.5,3,yes,2024-01-02,2024-01-02T10:30:00\n"
                "008,2,,FALSE,2024-02-03,2024-02-03 08:00\n"
            )
        ],
        "warehouse",
    )
    assert result.is_success, result.messages
    assert result.data_source is not None
    assert result.data_source.name == "warehouse"
    assert result.data_source.classification is DataClassification.MASTER_DATA
    table = result.data_source.get_table("sku_data")
    assert table["sku"].tolist() == ["007", "008"]
    assert str(table["sku"].dtype) == "str"
    assert table["weight_kg"].dtype == "float64"
    assert str(table["stock"].dtype) == "Int64"
    assert table["stock"].isna().tolist() == [False, True]
    assert table["active"].tolist() == [True, False]
    assert table["since"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-02-03")]
    assert table["updated"].iloc[0] == pd.Timestamp("2024-01-02 10:30")
    assert table["family"].dtype == "category"
    assert table["family"].tolist() == ["misc", "misc"]


def test_optional_missing_column_gets_its_default_and_typed_nulls() -> None:
    result = DefaultETLFactory([SKU]).run([csv("sku,weight_kg,stock\nA,1,1\n")], "d")
    assert result.data_source is not None
    table = result.data_source.get_table("sku_data")
    assert table["family"].tolist() == ["misc"]
    assert str(table["active"].dtype) == "boolean"
    assert table["active"].isna().all()
    assert list(table.columns)[:7] == [c.name for c in SKU.tables["sku_data"]]


def test_header_matching_ignores_case_and_spaces() -> None:
    result = DefaultETLFactory([SKU]).run([csv(" SKU ,Weight_KG,stock\nA,1,1\n")], "d")
    assert result.is_success
    assert result.data_source is not None
    assert list(result.data_source.get_table("sku_data").columns)[:2] == ["sku", "weight_kg"]


def test_missing_required_column_is_an_error() -> None:
    result = DefaultETLFactory([SKU]).run([csv("sku,stock\nA,1\n")], "d")
    assert not result.is_success
    assert result.data_source is None
    message = only(result, "missing_column")
    assert (message.severity, message.table, message.column) == (
        Severity.ERROR,
        "sku_data",
        "weight_kg",
    )


def test_unconvertible_values_report_rows_and_count() -> None:
    rows = "".join(f"S{i},{'heavy' if i % 2 else i},1\n" for i in range(20))
    result = DefaultETLFactory([SKU]).run([csv("sku,weight_kg,stock\n" + rows)], "d")
    assert not result.is_success
    message = only(result, "invalid_value")
    assert (message.table, message.column, message.row) == ("sku_data", "weight_kg", 2)
    assert "10 value(s) are not a float" in message.message
    assert "'heavy'" in message.message


def test_fractional_integer_and_bad_boolean_and_bad_date() -> None:
    result = DefaultETLFactory([SKU]).run(
        [csv("sku,weight_kg,stock,active,since\nA,1,2.5,maybe,2024-13-45\nB,1,2,no,2024-01-01\n")],
        "d",
    )
    bad = {m.column: m for m in result.messages if m.code == "invalid_value"}
    assert set(bad) == {"stock", "active", "since"}
    assert all(m.row == 1 for m in bad.values())


def test_decimal_commas_are_numbers() -> None:
    file = CSVFile.from_bytes(
        "sku_data.csv", "sku;weight_kg;stock\nA;1,5;1\nB;2;2\n".encode("cp1252")
    )
    result = DefaultETLFactory([SKU]).run([file], "d")
    assert result.data_source is not None
    assert result.data_source.get_table("sku_data")["weight_kg"].tolist() == [1.5, 2.0]


def test_duplicate_and_null_primary_keys_are_errors() -> None:
    result = DefaultETLFactory([SKU]).run(
        [csv("sku,weight_kg,stock\nA,1,1\nB,1,1\nA,2,2\n,3,3\n")], "d"
    )
    assert not result.is_success
    duplicate = only(result, "duplicate_key")
    assert (duplicate.column, duplicate.row) == ("sku", 1)
    assert "2 rows" in duplicate.message
    assert only(result, "null_key").row == 4


def test_composite_primary_key() -> None:
    schema = Schema(
        "stock",
        columns=[Column("site", primary_key=True), Column("sku", primary_key=True)],
    )
    ok = DefaultETLFactory([schema]).run([csv("site,sku\nA,1\nA,2\nB,1\n", "stock.csv")], "d")
    assert ok.is_success
    bad = DefaultETLFactory([schema]).run([csv("site,sku\nA,1\nA,1\n", "stock.csv")], "d")
    assert codes(bad) == ["duplicate_key"]


def test_null_in_non_nullable_column_is_an_error() -> None:
    result = DefaultETLFactory([SKU]).run([csv("sku,weight_kg,stock\nA,,1\n")], "d")
    assert only(result, "null_value").column == "weight_kg"


def test_declared_categories_reject_other_values() -> None:
    schema = Schema("t", columns=[Column("size", "category", categories=["S", "M", "L"])])
    result = DefaultETLFactory([schema]).run([csv("size\nM\nXL\nS\n", "t.csv")], "d")
    assert only(result, "invalid_value").row == 2
    ok = DefaultETLFactory([schema]).run([csv("size\nM\nS\n", "t.csv")], "d")
    assert ok.data_source is not None
    assert list(ok.data_source.get_table("t")["size"].cat.categories) == ["S", "M", "L"]


def test_unknown_file_stem_is_an_error() -> None:
    result = DefaultETLFactory([SKU]).run(
        [csv("sku,weight_kg,stock\nA,1,1\n"), csv("a\n1\n", "surprise.csv")], "d"
    )
    message = only(result, "unknown_file")
    assert "surprise.csv" in message.message
    assert "sku_data.csv" in message.message
    assert not result.is_success


def test_required_file_not_uploaded_is_an_error_but_optional_is_not() -> None:
    optional = Schema("extras", columns=[Column("a")], required=False)
    result = DefaultETLFactory([SKU, optional]).run([], "d")
    assert codes(result) == ["missing_file"]
    assert "sku_data.csv" in result.messages[0].message
    result = DefaultETLFactory([SKU, optional]).run([csv("sku,weight_kg,stock\nA,1,1\n")], "d")
    assert result.is_success
    assert result.data_source is not None
    assert result.data_source.list_tables() == ["sku_data"]


def test_wrong_extension_is_an_error() -> None:
    file = JSONFile.from_bytes("sku_data.json", b'[{"sku": "A"}]')
    assert codes(DefaultETLFactory([SKU]).run([file], "d")) == ["wrong_extension"]


def test_files_can_be_keyed_by_logical_name() -> None:
    result = DefaultETLFactory([SKU]).run(
        {"sku_data": csv("sku,weight_kg,stock\nA,1,1\n", "upload-42.csv")}, "d"
    )
    assert result.is_success


@pytest.mark.parametrize(
    ("file", "code", "severity"),
    [
        (
            XLSXFile.from_bytes("inventory.xlsx", b"PK\x03\x04garbage"),
            "unreadable_file",
            "critical",
        ),
        (CSVFile.from_bytes("sku_data.csv", bytes(range(256))), "unreadable_file", "critical"),
        (CSVFile.from_bytes("sku_data.csv", b""), "empty_file", "critical"),
        (
            CSVFile.from_bytes("sku_data.csv", b"sku,weight_kg\nA,1\nB,2,3\n"),
            "ragged_rows",
            "error",
        ),
        (JSONFile.from_bytes("orders.json", b'{"total": 3}'), "not_tabular", "critical"),
    ],
)
def test_bad_input_gives_a_failed_result_with_an_actionable_message(
    file: File, code: str, severity: str
) -> None:
    schemas = [
        Schema("sku_data", columns=[Column("sku")], required=False),
        Schema("inventory", extension="xlsx", sheets={"stock": [Column("sku")]}, required=False),
        Schema("orders", extension="json", columns=[Column("id")], required=False),
    ]
    result = DefaultETLFactory(schemas).run([file], "d")
    assert not result.is_success
    assert result.data_source is None
    message = only(result, code)
    assert message.severity == severity
    assert file.filename in message.message


def xlsx(tmp_path: Path, sheets: Mapping[str, list[list[object]]]) -> XLSXFile:
    workbook = Workbook()
    first = True
    for title, rows in sheets.items():
        if first:
            sheet = workbook.active
            assert sheet is not None
            sheet.title = title
            first = False
        else:
            sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "inventory.xlsx"
    workbook.save(path)
    return XLSXFile.from_path(path)


INVENTORY = Schema(
    "inventory",
    extension="xlsx",
    sheets={
        "stock": [Column("sku", primary_key=True), Column("quantity", "integer", nullable=False)],
        "locations": [Column("location", primary_key=True), Column("capacity", "float")],
    },
)


def test_xlsx_sheets_become_tables(tmp_path: Path) -> None:
    file = xlsx(
        tmp_path,
        {
            "stock": [["sku", "quantity"], ["A", 1], ["B", 2]],
            "locations": [["location", "capacity"], ["AMS", 10]],
            "notes": [["anything"]],
        },
    )
    result = DefaultETLFactory([INVENTORY]).run([file], "d")
    assert result.is_success, result.messages
    assert result.data_source is not None
    assert result.data_source.list_tables() == ["stock", "locations"]
    stock = result.data_source.get_table("stock")
    assert stock["quantity"].dtype == "int64"
    assert stock["quantity"].tolist() == [1, 2]


def test_xlsx_missing_sheet_is_an_error(tmp_path: Path) -> None:
    file = xlsx(tmp_path, {"stock": [["sku", "quantity"], ["A", 1]]})
    result = DefaultETLFactory([INVENTORY]).run([file], "d")
    message = only(result, "missing_sheet")
    assert message.table == "locations"
    assert "stock" in message.message


def test_fail_on_error_off_still_builds_the_dataset() -> None:
    factory = DefaultETLFactory([SKU], fail_on_error=False)
    result = factory.run([csv("sku,weight_kg,stock\nA,heavy,1\nB,2,2\n")], "d")
    assert result.is_success
    assert [m.code for m in result.errors] == ["invalid_value"]
    assert result.data_source is not None
    assert result.data_source.get_table("sku_data")["weight_kg"].isna().tolist() == [True, False]


class Warehouse(DataSource):
    """A dataset subclass the custom factory loads into."""


class WarehouseETL(ETLFactory):
    """A user factory: schemas as a class attribute and a transform step."""

    schemas = (SKU,)
    data_source_class = Warehouse

    def transform(
        self, tables: dict[str, pd.DataFrame], messages: list[ValidationMessage]
    ) -> dict[str, pd.DataFrame]:
        sku = tables["sku_data"]
        tables["heavy"] = sku[sku["weight_kg"] > 1.0].reset_index(drop=True)
        messages.append(
            ValidationMessage(Severity.INFO, f"{len(tables['heavy'])} heavy", code="derived")
        )
        return tables


def test_user_factory_hooks_run_in_order() -> None:
    result = WarehouseETL().run([csv("sku,weight_kg,stock\nA,0.5,1\nB,2,2\n")], "d")
    assert result.is_success
    assert isinstance(result.data_source, Warehouse)
    assert result.data_source.get_table("heavy")["sku"].tolist() == ["B"]
    assert only(result, "derived").message == "1 heavy"


class BrokenETL(ETLFactory):
    schemas = (SKU,)

    def transform(
        self, tables: dict[str, pd.DataFrame], messages: list[ValidationMessage]
    ) -> dict[str, pd.DataFrame]:
        raise RuntimeError("boom")


def test_a_failing_hook_is_a_critical_message_not_an_exception() -> None:
    result = BrokenETL().run([csv("sku,weight_kg,stock\nA,1,1\n")], "d")
    assert not result.is_success
    message = only(result, "transform_failed")
    assert message.severity is Severity.CRITICAL
    assert "boom" in message.message


def test_result_and_messages_serialise() -> None:
    result = DefaultETLFactory([SKU]).run([csv("sku,stock\nA,1\n")], "d")
    summary = result.to_dict()
    assert summary["success"] is False
    assert summary["messages"][0] == {
        "severity": "error",
        "message": "table 'sku_data' lacks the required column 'weight_kg'",
        "table": "sku_data",
        "column": "weight_kg",
        "row": None,
        "code": "missing_column",
    }


def test_json_file_through_the_etl() -> None:
    schema = Schema(
        "orders",
        extension="json",
        columns=[Column("id", "integer", primary_key=True), Column("customer.name")],
    )
    file = JSONFile.from_bytes(
        "orders.json",
        b'[{"id": 1, "customer": {"name": "Ann"}}, {"id": 2, "customer": {"name": "Bob"}}]',
    )
    result = DefaultETLFactory([schema]).run([file], "d")
    assert result.data_source is not None
    assert result.data_source.get_table("orders")["customer.name"].tolist() == ["Ann", "Bob"]


def test_produced_dataset_round_trips_through_json() -> None:
    result = DefaultETLFactory([SKU]).run(
        [csv("sku,weight_kg,stock,since\nA,1,1,2024-01-01\nB,2,,2024-01-02\n")], "d"
    )
    assert result.data_source is not None
    back = DataSource.from_json(result.data_source.to_json())
    pd.testing.assert_frame_equal(
        back.get_table("sku_data"), result.data_source.get_table("sku_data")
    )


def test_day_first_dates_are_understood() -> None:
    schema = Schema("t", columns=[Column("day", "date")])
    result = DefaultETLFactory([schema]).run([csv("day\n31-12-2024\n01-02-2024\n", "t.csv")], "d")
    assert result.data_source is not None
    assert result.data_source.get_table("t")["day"].tolist() == [
        pd.Timestamp("2024-12-31"),
        pd.Timestamp("2024-02-01"),
    ]


def test_repeated_column_names_are_an_error() -> None:
    result = DefaultETLFactory([SKU]).run([csv("sku,weight_kg,stock,sku\nA,1,1,B\n")], "d")
    message = only(result, "duplicate_column")
    assert message.column == "sku"


def test_object_of_record_lists_json_with_declared_tables() -> None:
    schema = Schema(
        "site_data",
        extension="json",
        sheets={
            "sites": [Column("site", primary_key=True)],
            "docks": [Column("site"), Column("doors", "integer", nullable=False)],
        },
    )
    file = JSONFile.from_bytes(
        "site_data.json",
        b'{"sites": [{"site": "AMS"}], "docks": [{"site": "AMS", "doors": "4"}]}',
    )
    result = DefaultETLFactory([schema]).run([file], "d")
    assert result.data_source is not None
    assert result.data_source.list_tables() == ["sites", "docks"]
    assert result.data_source.get_table("docks")["doors"].tolist() == [4]
