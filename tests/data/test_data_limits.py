"""Reading stays within `ReadLimits`: refused before a reader allocates."""

from __future__ import annotations

import random

import orjson
import pytest

from algomancy_data import CSVFile, FileReadError, JSONFile, ReadLimits, XLSXFile
from algomancy_data.files import _fields_within, _longest_field
from algomancy_data.limits import quote
from tests import hostile


def test_the_test_workbook_is_readable() -> None:
    tables = XLSXFile.from_bytes("stock.xlsx", hostile.small_workbook()).read()
    assert tables["stock"].to_dict("records") == [{"sku": "A", "quantity": 10}]


@pytest.mark.parametrize("ref", ["XFD1048576", "ZZ100000"])
def test_a_far_cell_address_is_refused_before_reading(ref: str) -> None:
    data = hostile.far_cell_workbook(ref)
    assert len(data) < 3000
    with pytest.raises(FileReadError, match="max_table_cells") as caught:
        XLSXFile.from_bytes("stock.xlsx", data).read()
    assert caught.value.code == "too_large"


def test_a_declared_dimension_is_refused_before_reading() -> None:
    data = hostile.declared_dimension_workbook("A1:XFD1048576")
    with pytest.raises(FileReadError, match=r"1048576 rows x 16384 columns"):
        XLSXFile.from_bytes("stock.xlsx", data).read()


def test_a_range_within_the_limit_is_read() -> None:
    data = hostile.far_cell_workbook("C50")
    tables = XLSXFile.from_bytes("stock.xlsx", data).read()
    assert tables["stock"].shape == (49, 3)
    limits = ReadLimits(max_table_cells=100)
    with pytest.raises(FileReadError, match="max_table_cells"):
        XLSXFile.from_bytes("stock.xlsx", data, limits).read()


def test_a_zip_bomb_is_refused_by_its_compression_ratio() -> None:
    data = hostile.bomb_workbook(8 * 1024 * 1024)
    assert len(data) < 64 * 1024
    with pytest.raises(FileReadError, match="max_compression_ratio"):
        XLSXFile.from_bytes("stock.xlsx", data).read()


def test_the_inflated_size_is_checked_from_the_zip_directory() -> None:
    data = hostile.bomb_workbook(200_000)
    limits = ReadLimits(max_decompressed_bytes=100_000)
    with pytest.raises(FileReadError, match="max_decompressed_bytes"):
        XLSXFile.from_bytes("stock.xlsx", data, limits).read()


def test_a_zip_that_is_not_a_workbook_is_unreadable() -> None:
    with pytest.raises(FileReadError) as caught:
        XLSXFile.from_bytes("stock.xlsx", b"PK\x03\x04" + b"\x00" * 100).read()
    assert caught.value.code == "unreadable_file"


def test_a_csv_cell_over_the_limit_is_refused_before_parsing() -> None:
    data = b"sku,note\n" + b"A," + b"x" * 200_000 + b"\n"
    with pytest.raises(FileReadError, match="max_cell_chars") as caught:
        CSVFile.from_bytes("sku.csv", data).read()
    assert len(str(caught.value)) < 300


def test_a_quoted_csv_cell_over_the_limit_is_refused_after_parsing() -> None:
    piece = "x" * 1000 + ","
    data = f'sku,note\nA,"{piece * 40}"\n'.encode()
    with pytest.raises(FileReadError, match="max_cell_chars"):
        CSVFile.from_bytes("sku.csv", data).read()


def test_csv_rows_times_columns_are_bounded() -> None:
    data = b"a,b,c\n" + b"1,2,3\n" * 40
    limits = ReadLimits(max_table_cells=100)
    with pytest.raises(FileReadError, match=r"about 41 rows x 3 columns"):
        CSVFile.from_bytes("sku.csv", data, limits).read()
    assert len(CSVFile.from_bytes("sku.csv", data).read()["sku"]) == 40


def test_json_records_are_bounded_before_the_table_is_built() -> None:
    data = orjson.dumps([{"a": i, "b": i} for i in range(60)])
    with pytest.raises(FileReadError, match="max_table_cells"):
        JSONFile.from_bytes("sku.json", data, ReadLimits(max_table_cells=100)).read()


def test_limits_are_positive_integers() -> None:
    with pytest.raises(ValueError, match="max_cell_chars"):
        ReadLimits(max_cell_chars=0)


def test_quote_cuts_long_input() -> None:
    assert quote("abc") == "'abc'"
    quoted = quote("x" * 10_000_000)
    assert len(quoted) < 250 and "10000000 characters" in quoted


def test_an_unquoted_csv_cell_over_the_limit_in_characters_is_refused() -> None:
    """150 bytes passes the bound before parsing (4 bytes a character at most), so
    the cell is measured after reading."""
    limits = ReadLimits(max_cell_chars=100)
    data = b"sku,note\nA," + b"x" * 150 + b"\n"
    with pytest.raises(FileReadError, match="max_cell_chars"):
        CSVFile.from_bytes("sku.csv", data, limits).read()
    # 60 two-byte characters: 120 bytes, but within the 100 characters.
    fine = "sku,note\nA," + "é" * 60 + "\n"
    assert CSVFile.from_bytes("sku.csv", fine.encode(), limits).read()["sku"]["note"][0] == "é" * 60


@pytest.mark.parametrize("seed", range(5))
def test_the_quick_field_bound_never_passes_a_longer_field(seed: int) -> None:
    """`_fields_within` may say "maybe longer" for a file within the bound (the exact
    count then decides), never "within" for a file that is not."""
    rng = random.Random(seed)
    for _ in range(400):
        data = bytes(rng.choice(b"xxxxxxxyz,\n") for _ in range(rng.randint(0, 400)))
        most = rng.randint(1, 60)
        if _fields_within(data, b",", most):
            assert _longest_field(data, ",") <= most
    assert not _fields_within(b"a," + b"x" * 121 + b"\n", b",", 120)
    assert _fields_within(b"sku,qty\n" + b"A,1\n" * 100, b",", 120)
