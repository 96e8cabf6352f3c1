"""A table as a downloadable file (CSV or XLSX), safe to open in a spreadsheet.

Spreadsheet programs run a cell that starts with `=`, `+`, `-` or `@` as a formula,
and some strip a leading tab or carriage return first ("CSV injection"). A text
cell starting with one of those characters is written with a leading `'`, the
escape OWASP recommends: the cell shows its text instead of running it. Numbers,
booleans and dates are written as themselves (a negative number stays a number).
"""

from __future__ import annotations

import io
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import pandas as pd

#: First characters that make a spreadsheet treat a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class ExportFormat(StrEnum):
    """The file formats a table downloads as."""

    csv = "csv"
    xlsx = "xlsx"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def escape_formula(value: Any) -> Any:
    """`value` with a leading `'` if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def escaped(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells are escaped (other columns untouched)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.astype(object).map(escape_formula)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header row and CRLF line ends (RFC 4180, which also makes the
    writer quote a cell holding a lone CR); missing values are empty cells."""
    text = escaped(frame).to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8")


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """One worksheet named after the table (Excel allows 31 characters). Excel has no
    time zones: zoned datetimes are written as UTC wall time."""
    out = escaped(frame)
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
    buffer = io.BytesIO()
    title = "".join("_" if c in "[]:*?/\\" else c for c in sheet)[:31] or "table"
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        out.to_excel(writer, sheet_name=title, index=False)
    return buffer.getvalue()


def export_table(frame: pd.DataFrame, table: str, fmt: ExportFormat) -> bytes:
    """The bytes of `frame` in `fmt`."""
    if fmt is ExportFormat.xlsx:
        return to_xlsx_bytes(frame, table)
    return to_csv_bytes(frame)


def attachment(stem: str, fmt: ExportFormat) -> str:
    """A `Content-Disposition` value: an ASCII fallback name and the exact UTF-8 one."""
    name = f"{stem}.{fmt.value}"
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_. ") else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
