from pathlib import Path

import orjson
import pandas as pd
import pytest
from openpyxl import Workbook

from algomancy_data import CSVFile, File, FileReadError, JSONFile, XLSXFile, file_from_bytes


def write_workbook(path: Path) -> None:
    workbook = Workbook()
    stock = workbook.active
    assert stock is not None
    stock.title = "stock"
    stock.append(["sku", "quantity", "price"])
    stock.append(["A", 10, 1.5])
    stock.append(["B", 20, 2.25])
    locations = workbook.create_sheet("locations")
    locations.append(["location", "capacity"])
    locations.append(["AMS", 1000])
    workbook.save(path)


def test_xlsx_reads_every_sheet(tmp_path: Path) -> None:
    path = tmp_path / "inventory.xlsx"
    write_workbook(path)
    file = XLSXFile.from_path(path)
    assert (file.name, file.extension, file.filename) == ("inventory", "xlsx", "inventory.xlsx")
    tables = file.read()
    assert list(tables) == ["stock", "locations"]
    assert tables["stock"]["sku"].tolist() == ["A", "B"]
    assert tables["stock"]["quantity"].tolist() == [10, 20]
    assert tables["locations"]["capacity"].tolist() == [1000]


def test_cp1252_semicolon_csv(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_bytes("naam;prijs\nCafé crème;3,50 €\nÉclair;2\n".encode("cp1252"))
    file = CSVFile.from_path(path)
    assert file.detect_encoding() == "cp1252"
    table = file.read()["products"]
    assert list(table.columns) == ["naam", "prijs"]
    assert table["naam"].tolist() == ["Café crème", "Éclair"]
    assert table["prijs"].tolist() == ["3,50 €", "2"]


@pytest.mark.parametrize("text", ["sku\ncafé\n", "sku\nA\né\n", "sku\nA\nàé\n"])
def test_a_non_utf8_byte_near_the_end_is_cp1252(text: str) -> None:
    # Only the last bytes are not UTF-8: still read as cp1252, not refused as UTF-8.
    file = CSVFile.from_bytes("items.csv", text.encode("cp1252"))
    assert file.detect_encoding() == "cp1252"
    assert file.read()["items"]["sku"].tolist()[-1] == text.split()[-1]


def test_a_cut_utf8_character_at_the_end_is_utf8() -> None:
    data = "sku\ncafé\n".encode()[:-2]
    assert CSVFile.from_bytes("items.csv", data).detect_encoding() == "utf-8-sig"


def test_utf8_bom_csv_has_a_clean_first_header(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffsku,qty\nA,1\nB,2\n".encode())
    table = CSVFile.from_path(path).read()["bom"]
    assert list(table.columns) == ["sku", "qty"]
    assert table["qty"].tolist() == [1, 2]


def test_tab_separated_csv(tmp_path: Path) -> None:
    path = tmp_path / "tabs.csv"
    path.write_text("a\tb\tc\n1\tx, y\t2.5\n3\tz\t\n", encoding="utf-8")
    table = CSVFile.from_path(path).read()["tabs"]
    assert list(table.columns) == ["a", "b", "c"]
    assert table["b"].tolist() == ["x, y", "z"]
    assert table["c"].isna().tolist() == [False, True]


def test_csv_falls_back_to_pandas_when_a_late_value_breaks_the_inferred_type() -> None:
    rows = "\n".join(str(i) for i in range(200_000))
    file = CSVFile.from_bytes("n.csv", f"n\n{rows}\nnot-a-number\n".encode())
    table = file.read()["n"]
    assert len(table) == 200_001
    assert table["n"].iloc[-1] == "not-a-number"


def test_csv_keeps_declared_string_columns_as_text() -> None:
    file = CSVFile.from_bytes("codes.csv", b"code,n\n007,1\n010,2\n")
    table = file.read(column_types={"code": "string"})["codes"]
    assert table["code"].tolist() == ["007", "010"]


def test_csv_quoted_line_break_is_read() -> None:
    file = CSVFile.from_bytes("q.csv", b'a,b\n1,"two\nlines"\n2,x\n')
    assert file.read()["q"]["b"].tolist() == ["two\nlines", "x"]


def test_json_nested_records_are_flattened(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    records = [
        {"id": 1, "customer": {"name": "Ann", "address": {"city": "Eindhoven"}}},
        {"id": 2, "customer": {"name": "Bob", "address": {"city": "Delft"}}},
    ]
    path.write_bytes(orjson.dumps(records))
    table = JSONFile.from_path(path).read()["orders"]
    assert list(table.columns) == ["id", "customer.name", "customer.address.city"]
    assert table["customer.address.city"].tolist() == ["Eindhoven", "Delft"]


def test_json_object_of_record_lists_gives_one_table_per_key(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.json"
    path.write_bytes(
        orjson.dumps({"sku": [{"sku": "A", "w": 1.0}], "sites": [{"site": "AMS"}, {"site": "RTM"}]})
    )
    tables = JSONFile.from_path(path).read()
    assert list(tables) == ["sku", "sites"]
    assert tables["sites"]["site"].tolist() == ["AMS", "RTM"]


def test_json_object_of_columns_is_one_table() -> None:
    tables = JSONFile.from_bytes("cols.json", b'{"a": [1, 2], "b": ["x", "y"]}').read()
    assert tables["cols"]["b"].tolist() == ["x", "y"]


@pytest.mark.parametrize(
    ("file", "code"),
    [
        (CSVFile.from_bytes("e.csv", b""), "empty_file"),
        (CSVFile.from_bytes("e.csv", b"  \n\n"), "empty_file"),
        (CSVFile.from_bytes("bin.csv", bytes(range(256)) * 10), "unreadable_file"),
        (CSVFile.from_bytes("r.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n"), "ragged_rows"),
        (CSVFile.from_bytes("r.csv", b"a,b\n1,2\n3,4,5\n"), "ragged_rows"),
        (CSVFile.from_bytes("r.csv", b'a,b\n"1",2\n3,4,5\n'), "ragged_rows"),
        (XLSXFile.from_bytes("bad.xlsx", b"this is not a workbook"), "unreadable_file"),
        (XLSXFile.from_bytes("bad.xlsx", b"PK\x03\x04 truncated zip"), "unreadable_file"),
        (XLSXFile.from_bytes("e.xlsx", b""), "empty_file"),
        (JSONFile.from_bytes("j.json", b"{oops"), "unreadable_file"),
        (JSONFile.from_bytes("j.json", b"42"), "not_tabular"),
        (JSONFile.from_bytes("j.json", b'{"a": 1}'), "not_tabular"),
        (JSONFile.from_bytes("j.json", b"[1, 2, 3]"), "not_tabular"),
        (JSONFile.from_bytes("j.json", b""), "empty_file"),
    ],
)
def test_bad_content_raises_file_read_error_with_a_code(file: File, code: str) -> None:
    with pytest.raises(FileReadError) as info:
        file.read()
    assert info.value.code == code
    assert file.filename in str(info.value)


def test_ragged_message_names_the_line() -> None:
    with pytest.raises(FileReadError, match="line 3 has 2 fields, the header has 3"):
        CSVFile.from_bytes("r.csv", b"a,b,c\n1,2,3\n4,5\n").read()


def test_file_from_bytes_picks_the_type_by_extension() -> None:
    assert isinstance(file_from_bytes("a.CSV", b"x\n1\n"), CSVFile)
    assert isinstance(file_from_bytes("dir/b.json", b"[]"), JSONFile)
    file = file_from_bytes("c.xlsx", b"")
    assert isinstance(file, XLSXFile)
    assert file.name == "c"
    with pytest.raises(ValueError, match="unsupported file type"):
        file_from_bytes("notes.txt", b"hello")


def test_file_name_is_reduced_to_its_last_component() -> None:
    file = CSVFile.from_bytes("../../etc/sku_data.csv", b"a\n1\n")
    assert (file.filename, file.name) == ("sku_data.csv", "sku_data")
    with pytest.raises(ValueError, match="no stem"):
        CSVFile.from_bytes("", b"a\n1\n")


def test_xlsx_written_by_pandas_reads_back_equal(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="one", index=False)
        frame.to_excel(writer, sheet_name="two", index=False)
    tables = XLSXFile.from_path(path).read()
    assert list(tables) == ["one", "two"]
    pd.testing.assert_frame_equal(tables["two"], frame)
