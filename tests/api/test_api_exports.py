"""Table downloads (CSV, XLSX) and their formula-injection escaping."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_api.exports import escape_formula, sheet_title, to_xlsx_bytes
from algomancy_data import DataSource

from .conftest import PREFIX, ClientFactory

M = f"{PREFIX}/sessions/main"
RISKY = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\ry", "plain", "a=b"]


@pytest.fixture
def risky_client(client: TestClient) -> TestClient:
    table = pd.DataFrame(
        {
            "text": RISKY,
            "number": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, None],
            "when": pd.to_datetime(["2024-01-01 12:00"] * 8).tz_localize("Europe/Amsterdam"),
        }
    )
    payload = DataSource("risky", tables={"cells": table}).to_json()
    assert (
        client.post(
            f"{M}/data/from-json", content=payload, headers={"Content-Type": "application/json"}
        ).status_code
        == 201
    )
    return client


def test_escape_formula() -> None:
    assert [escape_formula(v) for v in RISKY] == [
        "'=1+1",
        "'+cmd",
        "'-2+3",
        "'@SUM(A1)",
        "'\tx",
        "'\ry",
        "plain",
        "a=b",
    ]
    assert escape_formula(-5) == -5 and escape_formula(None) is None


def test_csv_download_escapes_text_not_numbers(risky_client: TestClient) -> None:
    r = risky_client.get(f"{M}/data/risky/tables/cells/download", params={"format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"].startswith('attachment; filename="risky-cells.csv"')
    back = pd.read_csv(io.BytesIO(r.content), keep_default_na=False)
    assert back["text"].tolist() == [escape_formula(v) for v in RISKY]
    assert back["number"].tolist()[:3] == ["-1.5", "2.0", "-3.0"]  # numbers unescaped
    assert back["when"][0] == "2024-01-01 12:00:00+01:00"


def test_csv_is_the_default_format(risky_client: TestClient) -> None:
    r = risky_client.get(f"{M}/data/risky/tables/cells/download")
    assert r.status_code == 200 and r.content.startswith(b"text,number,when\r\n")


def test_xlsx_download_has_no_formulas(risky_client: TestClient) -> None:
    r = risky_client.get(f"{M}/data/risky/tables/cells/download", params={"format": "xlsx"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="risky-cells.xlsx"' in r.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content))["cells"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("text", "number", "when")
    # XML reads a carriage return back as a line feed; the escape is what matters.
    assert [row[0] for row in rows[1:]] == [escape_formula(v).replace("\r", "\n") for v in RISKY]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert rows[1][1] == -1.5
    assert str(rows[1][2]) == "2024-01-01 11:00:00"  # UTC wall time


def test_download_errors(risky_client: TestClient) -> None:
    assert risky_client.get(f"{M}/data/nope/tables/cells/download").status_code == 404
    r = risky_client.get(f"{M}/data/risky/tables/nope/download")
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    r = risky_client.get(f"{M}/data/risky/tables/cells/download", params={"format": "pdf"})
    assert r.status_code == 422 and "format" in r.text


def test_download_filename_is_safe(client: TestClient) -> None:
    payload = DataSource("Daten ä", tables={"t": pd.DataFrame({"a": [1]})}).to_json()
    client.post(
        f"{M}/data/from-json", content=payload, headers={"Content-Type": "application/json"}
    )
    r = client.get(f"{M}/data/Daten ä/tables/t/download")
    disposition = r.headers["content-disposition"]
    assert 'filename="Daten _-t.csv"' in disposition
    assert "filename*=UTF-8''Daten%20%C3%A4-t.csv" in disposition


def post_table(client: TestClient, name: str, table: str, frame: pd.DataFrame) -> None:
    payload = DataSource(name, tables={table: frame}).to_json()
    r = client.post(
        f"{M}/data/from-json", content=payload, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text


def test_column_names_are_escaped_like_cells(client: TestClient) -> None:
    header = '=HYPERLINK("http://example.invalid","x")'
    post_table(client, "heads", "t", pd.DataFrame({header: ["a"], "+b": [1], "plain": [2]}))
    r = client.get(f"{M}/data/heads/tables/t/download", params={"format": "xlsx"})
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == ["'" + header, "'+b", "plain"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    r = client.get(f"{M}/data/heads/tables/t/download", params={"format": "csv"})
    assert (
        r.content.splitlines()[0] == b'"\'=HYPERLINK(""http://example.invalid"",""x"")",\'+b,plain'
    )


def test_control_characters_are_replaced_in_xlsx(client: TestClient) -> None:
    frame = pd.DataFrame({"c\x02": ["a\x01b", "\x00", None, "tab\there"]})
    post_table(client, "controls", "t", frame)
    r = client.get(f"{M}/data/controls/tables/t/download", params={"format": "xlsx"})
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(values_only=True)] == [
        "c\ufffd",
        "a\ufffdb",
        "\ufffd",
        None,
        "tab\there",
    ]
    csv = client.get(f"{M}/data/controls/tables/t/download", params={"format": "csv"})
    assert csv.status_code == 200 and "a\x01b" in csv.text


def test_sheet_titles_are_escaped() -> None:
    assert sheet_title("=cmd") == "_=cmd"
    assert sheet_title("'quoted'") == "_quoted_"
    assert sheet_title("a/b[1]\x01") == "a_b_1__"
    assert sheet_title("x" * 40) == "x" * 31
    assert sheet_title("") == "table"


def test_more_rows_than_a_sheet_holds_is_400(client: TestClient) -> None:
    post_table(client, "tall", "t", pd.DataFrame({"a": range(1_048_576)}))
    r = client.get(f"{M}/data/tall/tables/t/download", params={"format": "xlsx"})
    assert r.status_code == 400
    assert "1048575 rows" in r.json()["detail"] and "format=csv" in r.json()["detail"]
    assert client.get(f"{M}/data/tall/tables/t/download").status_code == 200


def test_more_cells_than_max_xlsx_export_cells_is_400(make_client: ClientFactory) -> None:
    client = make_client(max_xlsx_export_cells=10)
    post_table(client, "wide", "t", pd.DataFrame({"a": range(5), "b": range(5)}))
    r = client.get(f"{M}/data/wide/tables/t/download", params={"format": "xlsx"})
    assert r.status_code == 400 and "max_xlsx_export_cells" in r.json()["detail"]
    post_table(client, "narrow", "t", pd.DataFrame({"a": range(4)}))
    r = client.get(f"{M}/data/narrow/tables/t/download", params={"format": "xlsx"})
    assert r.status_code == 200


def test_xlsx_is_written_to_a_file_that_is_deleted_after(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    post_table(client, "kept", "t", pd.DataFrame({"a": range(30_000)}))
    r = client.get(f"{M}/data/kept/tables/t/download", params={"format": "xlsx"})
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active
    assert sheet is not None and sum(1 for _ in sheet.iter_rows(values_only=True)) == 30_001
    assert list(tmp_path.iterdir()) == []


def test_values_xlsx_has_no_type_for_are_written_as_text() -> None:
    frame = pd.DataFrame(
        {
            "list": [[1, 2], {"a": 1}],
            "period": pd.period_range("2024-01", periods=2, freq="M"),
            "float": [np.inf, -np.inf],
            "int": pd.array([1, None], dtype="Int64"),
        }
    )
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(frame, "t")))
    assert book.active is not None
    assert list(book.active.iter_rows(values_only=True))[1:] == [
        ("[1, 2]", "2024-01", "inf", 1),
        ("{'a': 1}", "2024-02", "'-inf", None),
    ]
