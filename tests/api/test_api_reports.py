"""Reports over HTTP: the XLSX read back with openpyxl, the HTML self-contained, the
PDF's pages and text read with pypdf."""

from __future__ import annotations

import io
import re

import openpyxl
import pypdf
import pytest
from fastapi.testclient import TestClient

from tests.decisions_domain import decisions_config

from .conftest import ClientFactory
from .test_api_decisions import M, scenario


@pytest.fixture
def reporting(make_client: ClientFactory) -> TestClient:
    client = make_client(**decisions_config())
    scenario(client, "base", profit=100, cost=50, label="plain")
    scenario(client, '=HYPERLINK("x")', profit=120, cost=40, label="+evil")
    scenario(client, "broken", fail=True)
    return client


def report(client: TestClient, **params: str) -> bytes:
    r = client.get(f"{M}/report", params=params)
    assert r.status_code == 200, r.text
    return r.content


def test_xlsx_report(reporting: TestClient) -> None:
    r = reporting.get(f"{M}/report", params={"baseline": "base", "format": "xlsx"})
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert r.headers["content-disposition"].startswith('attachment; filename="report-main.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == [
        "Summary",
        "Parameters",
        "profit",
        "cost",
        "service",
        "delay",
        "Lineage",
    ]
    summary = book["Summary"]
    header = [c.value for c in summary[1]]
    assert header[:7] == [
        "Scenario",
        "Status",
        "Baseline",
        "profit (EUR)",
        "Δ profit",
        "Δ% profit",
        "profit verdict",
    ]
    assert summary.freeze_panes == "B2"
    rows = {row[0]: row for row in summary.iter_rows(min_row=2, values_only=True)}
    # A tag a spreadsheet would run as a formula is written as text.
    evil = '\'=HYPERLINK("x")'
    assert set(rows) == {"base", evil, "broken"}
    assert rows[evil][3] == 120 and rows[evil][4] == 20 and rows[evil][5] == pytest.approx(0.2)
    assert rows[evil][6] == "improved" and rows["base"][2] is True
    assert rows["broken"][3] is None and rows["broken"][6] == "missing"
    assert all(cell.data_type != "f" for row in summary.iter_rows() for cell in row)
    # Real number formats, and fills that follow the verdicts.
    second = summary[2]
    assert second[3].number_format == "#,##0.00"
    assert second[4].number_format == "+#,##0.00;-#,##0.00;0.00"
    assert second[5].number_format == "+0.0%;-0.0%;0.0%"
    formats = summary.conditional_formatting
    ranges = {str(cf.sqref) for cf in formats}
    assert "G2:G4" in ranges
    rules = [rule for cf in formats if str(cf.sqref) == "G2:G4" for rule in cf.rules]
    assert {tuple(rule.formula) for rule in rules} >= {('"improved"',), ('"worse"',)}
    assert any(
        rule.dxf.fill.fgColor.rgb == "FFC6EFCE" for rule in rules if rule.formula == ['"improved"']
    )
    parameters = book["Parameters"]
    assert [c.value for c in parameters[1]][:3] == ["Scenario", "Algorithm", "profit"]
    labels = {row[0]: row[6] for row in parameters.iter_rows(min_row=2, values_only=True)}
    assert labels[evil] == "'+evil"
    profit = book["profit"]
    assert [c.value for c in profit[1]] == ["Scenario", "profit (EUR)", "Δ", "Δ%", "Verdict"]
    assert profit.freeze_panes == "B2" and profit["D3"].number_format == "+0.0%;-0.0%;0.0%"
    lineage = book["Lineage"]
    head = [c.value for c in lineage[1]]
    assert head[:4] == ["Scenario", "Id", "Algorithm", "Dataset"]
    first = [c.value for c in lineage[2]]
    assert first[3] == "Master data" and "algomancy-api" in first[head.index("Code versions")]
    assert lineage[2][head.index("Finished at")].number_format == "yyyy-mm-dd hh:mm:ss"


def test_xlsx_without_baseline_and_diff_only(reporting: TestClient) -> None:
    book = openpyxl.load_workbook(io.BytesIO(report(reporting, diff_only="true")))
    header = [c.value for c in book["Summary"][1]]
    assert header == [
        "Scenario",
        "Status",
        "profit (EUR)",
        "cost (EUR)",
        "service (%)",
        "delay (days)",
    ]
    assert [c.value for c in book["Parameters"][1]] == [
        "Scenario",
        "Algorithm",
        "profit",
        "cost",
        "label",
        "fail",
    ]


def test_html_report_is_self_contained(reporting: TestClient) -> None:
    r = reporting.get(f"{M}/report", params={"baseline": "pinned", "format": "html"})
    assert r.status_code == 409  # nothing pinned yet
    reporting.put(
        f"{M}/baseline", json={"scenario_id": reporting.get(f"{M}/scenarios").json()[0]["id"]}
    )
    r = reporting.get(f"{M}/report", params={"baseline": "pinned", "format": "html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    text = r.text
    assert text.count("<svg") == 4 and "@media print" in text
    # Tags are escaped, not markup; the only URL is SVG's namespace name.
    assert "=HYPERLINK(&quot;x&quot;)" in text
    urls = set(re.findall(r"(?:src|href)=\"([^\"]+)\"", text))
    assert urls == set()
    assert "<script" not in text and "<link" not in text


def test_pdf_report(reporting: TestClient) -> None:
    body = report(reporting, baseline="base", format="pdf")
    pdf = pypdf.PdfReader(io.BytesIO(body))
    assert 2 <= len(pdf.pages) <= 8
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert "Scenario comparison" in text and "improved" in text and "missing" in text
    for kpi in ("profit (EUR)", "cost (EUR)", "service (%)", "delay (days)", "Lineage"):
        assert kpi in text
    assert pdf.metadata is not None and pdf.metadata.title == "Scenario comparison — main"
    # Twelve times the scenarios: more pages.
    for n in range(12):
        scenario(reporting, f"more-{n}", profit=100 + n)
    longer = pypdf.PdfReader(io.BytesIO(report(reporting, baseline="base", format="pdf")))
    assert len(longer.pages) > len(pdf.pages)


def test_pdf_report_keeps_other_scripts(reporting: TestClient) -> None:
    scenario(reporting, "Ωmega 東京", profit=130)
    body = report(reporting, baseline="base", format="pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages)
    assert "Ωmega 東京" in text or "Ωmega" in text


def test_pdf_report_without_a_unicode_font(
    reporting: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the system has no DejaVu, the built-in Helvetica prints Latin-1 and '?'."""
    from algomancy_api.reports import pdf

    monkeypatch.setattr(pdf, "FONT_CANDIDATES", ())
    scenario(reporting, "Ωmega café", profit=130)
    body = report(reporting, baseline="base", format="pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(body)).pages)
    assert "?mega café" in text and "Ω" not in text


def test_pdf_report_is_capped(reporting: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from algomancy_api.reports import pdf

    monkeypatch.setattr(pdf, "MAX_PDF_SCENARIOS", 2)
    r = reporting.get(f"{M}/report", params={"format": "pdf"})
    assert r.status_code == 400 and "at most 2 scenarios, not 3" in r.json()["detail"]
    assert reporting.get(f"{M}/report", params={"format": "pdf", "ids": "base,broken"}).is_success


def test_report_errors(reporting: TestClient) -> None:
    assert reporting.get(f"{M}/report", params={"format": "docx"}).status_code == 422
    r = reporting.get(f"{M}/report", params={"ids": "nope"})
    assert r.status_code == 404 and "'nope'" in r.json()["detail"]


def test_lineage_row_reads_a_recorded_lineage() -> None:
    """A scenario's `lineage` (dataset version and digest, seed, code versions) and
    `fingerprint` fill the lineage sheet; without them, what the server knows."""
    from dataclasses import dataclass, field
    from typing import Any

    from algomancy_api.reports.model import lineage_row

    @dataclass
    class Recorded:
        tag: str = "t"
        id: str = "i"
        algorithm: str = "Fixed"
        dataset_key: str = "Master data"
        parameters: dict[str, Any] = field(default_factory=lambda: {"seed": 3})
        finished_at: None = None
        fingerprint: str | None = "f" * 64
        lineage: dict[str, Any] | None = field(
            default_factory=lambda: {
                "dataset_key": "Master data",
                "dataset_version": 2,
                "dataset_digest": "sha256:abc",
                "algorithm": {"name": "Fixed", "version": "1.0"},
                "seed": 42,
                "algomancy_version": "0.1.0",
                "domain_version": None,
                "executor": "thread",
            }
        )

    code = {"algomancy-api": "server"}
    row = lineage_row(Recorded(), code)  # type: ignore[arg-type]
    assert row["dataset version"] == "2" and row["dataset digest"] == "sha256:abc"
    assert row["seed"] == "42" and row["fingerprint"] == "f" * 64
    assert row["code versions"] == '{"algomancy-api":"0.1.0","algorithm":"1.0","executor":"thread"}'
    bare = lineage_row(Recorded(lineage=None, fingerprint=None), code)  # type: ignore[arg-type]
    assert bare["dataset version"] is None and bare["seed"] == "3"
    assert bare["code versions"] == '{"algomancy-api":"server"}'
