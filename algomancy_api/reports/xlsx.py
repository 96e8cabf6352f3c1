"""The XLSX report: summary with deltas and conditional fills, parameters, a sheet
per KPI, lineage. Real number formats, frozen header rows, every text cell escaped
(`exports.xlsx_text`: no formula runs when the file is opened)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from algomancy_api.compare import PARAMETER_PREFIX
from algomancy_api.exports import sheet_title, xlsx_text
from algomancy_api.reports.model import BAD, GOOD, LINEAGE_COLUMNS, Report

VALUE_FORMAT = "#,##0.00"
DELTA_FORMAT = "+#,##0.00;-#,##0.00;0.00"
RELATIVE_FORMAT = "+0.0%;-0.0%;0.0%"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
GREEN = PatternFill(start_color="FFC6EFCE", end_color="FFC6EFCE", fill_type="solid")
RED = PatternFill(start_color="FFFFC7CE", end_color="FFFFC7CE", fill_type="solid")
BOLD = Font(bold=True)


def _header(sheet: Worksheet, names: Sequence[str], widths: Sequence[int]) -> None:
    sheet.append([xlsx_text(name) for name in names])
    for cell in sheet[1]:
        cell.font = BOLD
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2"


def _formats(sheet: Worksheet, formats: dict[int, str], rows: int) -> None:
    """Number formats by column (1-based), for the data rows."""
    for column, number_format in formats.items():
        for (cell,) in sheet.iter_rows(min_row=2, max_row=rows + 1, min_col=column, max_col=column):
            cell.number_format = number_format


def _fills(sheet: Worksheet, columns: Iterable[int], rows: int) -> None:
    """Green for improved/pass, red for worse/fail: conditional formats, so that
    they follow an edited cell."""
    if rows == 0:
        return
    for column in columns:
        letter = get_column_letter(column)
        area = f"{letter}2:{letter}{rows + 1}"
        for words, fill in ((GOOD, GREEN), (BAD, RED)):
            for word in sorted(words):
                rule = CellIsRule(operator="equal", formula=[f'"{word}"'], fill=fill)
                sheet.conditional_formatting.add(area, rule)


def _summary(book: Workbook, report: Report, rows: list[dict[str, Any]]) -> None:
    sheet = book.active
    assert sheet is not None
    sheet.title = "Summary"
    names = ["Scenario", "Status"]
    keys: list[str] = ["scenario", "status"]
    formats: dict[int, str] = {}
    verdicts: list[int] = []
    if report.has_baseline:
        names.append("Baseline")
        keys.append("baseline")
    for kpi in report.kpis:
        names.append(kpi.heading)
        keys.append(kpi.name)
        formats[len(keys)] = VALUE_FORMAT
        if report.has_baseline:
            names += [f"Δ {kpi.name}", f"Δ% {kpi.name}", f"{kpi.name} verdict"]
            keys += [kpi.delta, kpi.relative, kpi.verdict]
            formats[len(keys) - 2] = DELTA_FORMAT
            formats[len(keys) - 1] = RELATIVE_FORMAT
            verdicts.append(len(keys))
    _header(sheet, names, [24, 11, *([10] if report.has_baseline else []), *[16] * (len(keys) - 2)])
    for row in rows:
        sheet.append([xlsx_text(row.get(key)) for key in keys])
    _formats(sheet, formats, len(rows))
    _fills(sheet, verdicts, len(rows))


def _parameters(book: Workbook, report: Report, rows: list[dict[str, Any]]) -> None:
    sheet = book.create_sheet("Parameters")
    names = report.comparison.parameters
    _header(sheet, ["Scenario", "Algorithm", *names], [24, 18, *[16] * len(names)])
    for row in rows:
        values = [row.get(PARAMETER_PREFIX + name) for name in names]
        sheet.append([xlsx_text(v) for v in (row["scenario"], row["algorithm"], *values)])


def _kpi_sheets(book: Workbook, report: Report, rows: list[dict[str, Any]]) -> None:
    taken = {"Summary", "Parameters", "Lineage"}
    for kpi in report.kpis:
        title, n = sheet_title(kpi.name), 1
        while title in taken:
            n += 1
            title = f"{sheet_title(kpi.name)[:27]} ({n})"
        taken.add(title)
        sheet = book.create_sheet(title)
        names = ["Scenario", kpi.heading]
        keys = ["scenario", kpi.name]
        formats = {2: VALUE_FORMAT}
        if report.has_baseline:
            names += ["Δ", "Δ%", "Verdict"]
            keys += [kpi.delta, kpi.relative, kpi.verdict]
            formats |= {3: DELTA_FORMAT, 4: RELATIVE_FORMAT}
        _header(sheet, names, [24, 18, 14, 10, 12][: len(names)])
        for row in rows:
            sheet.append([xlsx_text(row.get(key)) for key in keys])
        _formats(sheet, formats, len(rows))
        if report.has_baseline:
            _fills(sheet, [5], len(rows))


def _lineage(book: Workbook, report: Report) -> None:
    sheet = book.create_sheet("Lineage")
    _header(
        sheet, [c.capitalize() for c in LINEAGE_COLUMNS], [24, 38, 18, 18, 16, 20, 10, 20, 40, 20]
    )
    for row in report.lineage:
        sheet.append([xlsx_text(row[column]) for column in LINEAGE_COLUMNS])
    _formats(sheet, {len(LINEAGE_COLUMNS): TIME_FORMAT}, len(report.lineage))


def xlsx_report(report: Report) -> bytes:
    book = Workbook()
    book.properties.title = xlsx_text(report.title)
    rows = report.rows()
    _summary(book, report, rows)
    _parameters(book, report, rows)
    _kpi_sheets(book, report, rows)
    _lineage(book, report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
