"""Formula cells of uploaded files are read as their text, never evaluated."""

from __future__ import annotations

import io

import openpyxl

from algomancy_data import CSVFile, XLSXFile
from algomancy_data.formulas import formulas_as_text
from tests import hostile


def formula_cell(ref: str, inner: str) -> bytes:
    return f'<c r="{ref}">{inner}</c>'.encode()


def read_stock(data: bytes) -> list[dict[str, object]]:
    return XLSXFile.from_bytes("stock.xlsx", data).read()["stock"].to_dict("records")


def test_a_formula_without_a_cached_value_is_its_text() -> None:
    # As openpyxl (and many generators) write formulas: no cached value.
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "stock"
    sheet.append(["sku", "quantity"])
    sheet.append(['=CONCAT("A02-", "B01-L1")', 3])
    buffer = io.BytesIO()
    book.save(buffer)
    assert read_stock(buffer.getvalue()) == [{"sku": '=CONCAT("A02-", "B01-L1")', "quantity": 3}]


def test_a_cached_value_is_not_what_is_read() -> None:
    rows = [
        hostile.HEADER,
        (2, [hostile.cell("A2", "A"), formula_cell("B2", "<f>1+1</f><v>2</v>")]),
        (3, [formula_cell("A3", '<f>"a&amp;b"&lt;&gt;""</f><v>1</v>'), hostile.cell("B3", "5")]),
    ]
    assert read_stock(hostile.workbook(hostile.sheet_xml(rows))) == [
        {"sku": "A", "quantity": "=1+1"},
        {"sku": '="a&b"<>""', "quantity": "5"},
    ]


def test_shared_formulas_are_each_cells_own_text() -> None:
    rows = [
        hostile.HEADER,
        (
            2,
            [
                hostile.cell("A2", "1"),
                formula_cell("B2", '<f t="shared" ref="B2:B3" si="0">A2*2</f>'),
            ],
        ),
        (3, [hostile.cell("A3", "2"), formula_cell("B3", '<f t="shared" si="0"/><v>4</v>')]),
    ]
    assert [r["quantity"] for r in read_stock(hostile.workbook(hostile.sheet_xml(rows)))] == [
        "=A2*2",
        "=A3*2",
    ]


def test_a_workbook_without_formulas_is_left_alone() -> None:
    data = hostile.small_workbook()
    assert formulas_as_text(data) is data


def test_csv_formulas_are_text() -> None:
    data = b'sku,quantity\n=1+1,=HYPERLINK("http://x")\n@SUM(A1),-2+3\n'
    table = CSVFile.from_bytes("stock.csv", data).read()["stock"]
    assert table.to_dict("records") == [
        {"sku": "=1+1", "quantity": '=HYPERLINK("http://x")'},
        {"sku": "@SUM(A1)", "quantity": "-2+3"},
    ]
