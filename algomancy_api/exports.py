"""A table as a downloadable file (CSV or XLSX), safe to open in a spreadsheet.

Spreadsheet programs run a cell that starts with `=`, `+`, `-` or `@` as a formula,
and some strip a leading tab or carriage return first ("CSV injection"). A text
cell starting with one of those characters is written with a leading `'`, the
escape OWASP recommends: the cell shows its text instead of running it. Numbers,
booleans and dates are written as themselves (a negative number stays a number).
Column names and sheet titles are escaped as text cells are. XLSX cannot hold
control characters other than tab, line feed and carriage return: they become
U+FFFD. XLSX is written row by row to a temporary file (flat memory); a table
over a sheet's 1,048,576 rows or the `max_xlsx_export_cells` setting is refused
(`ExportTooLarge`, HTTP 400) in favour of CSV.
"""

from __future__ import annotations

import datetime
import decimal
import io
import math
import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from algomancy_api.gilturns import short_turns
from algomancy_core import InvalidInputError
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import openpyxl
    import pandas as pd
else:
    np = lazy_module("numpy")
    openpyxl = lazy_module("openpyxl")
    pd = lazy_module("pandas")

#: First characters that make a spreadsheet treat a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: What replaces a control character an XLSX file cannot hold.
REPLACEMENT = "\ufffd"
#: Rows (the header row included) and columns of an XLSX worksheet.
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 16_384
_ROWS_PER_STEP = 10_000
#: Values openpyxl writes as typed cells.
_XLSX_TYPES = (
    str,
    bool,
    int,
    float,
    decimal.Decimal,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
)


class ExportFormat(StrEnum):
    """The file formats a table downloads as."""

    csv = "csv"
    xlsx = "xlsx"


MEDIA_TYPES = {
    ExportFormat.csv: "text/csv; charset=utf-8",
    ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ExportTooLarge(InvalidInputError):
    """A table is too large for the format asked (HTTP 400); the message says why."""


def escape_formula(value: Any) -> Any:
    """`value` with a leading `'` if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def xlsx_text(value: Any) -> Any:
    """`escape_formula(value)`, with the control characters an XLSX file cannot
    hold (all below U+0020 but tab, line feed and carriage return) replaced by
    U+FFFD. A value XLSX has no type for (a list, a period, an infinite number) is
    written as its text, escaped alike."""
    untyped = value is not None and not isinstance(value, _XLSX_TYPES)
    if untyped or (isinstance(value, float) and not math.isfinite(value)):
        value = str(value)
    value = escape_formula(value)
    if isinstance(value, str):
        return openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)
    return value


def escaped(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells and column names are escaped (other
    columns untouched)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.astype(object).map(escape_formula)
    out.columns = pd.Index([escape_formula(c) for c in out.columns], dtype=object)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV with a header row and CRLF line ends (RFC 4180, which also makes the
    writer quote a cell holding a lone CR); missing values are empty cells."""
    text = escaped(frame).to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8")


def sheet_title(table: str) -> str:
    """A worksheet title for `table`: Excel refuses ``[]:*?/\\``, control characters
    and a leading or trailing `'` (each becomes `_`), and more than 31 characters; a
    title starting with a formula character gets a leading `_`."""
    title = "".join("_" if c in "[]:*?/\\" or ord(c) < 32 else c for c in table)
    if title.startswith(FORMULA_TRIGGERS):
        title = "_" + title
    if title.startswith("'"):
        title = "_" + title[1:]
    title = title[:31]
    if title.endswith("'"):
        title = title[:-1] + "_"
    return title or "table"


def check_xlsx_size(frame: pd.DataFrame, max_cells: int | None = None) -> None:
    """`ExportTooLarge` when `frame` does not fit one worksheet (1,048,576 rows,
    the header row included; 16,384 columns) or has more than `max_cells` cells
    (rows with the header row, x columns; the `max_xlsx_export_cells` setting)."""
    rows, columns = frame.shape
    if rows + 1 > XLSX_MAX_ROWS or columns > XLSX_MAX_COLUMNS:
        raise ExportTooLarge(
            f"the table has {rows} rows x {columns} columns; an XLSX sheet holds at most "
            f"{XLSX_MAX_ROWS - 1} rows (under a header row) x {XLSX_MAX_COLUMNS} columns: "
            "download it as CSV (format=csv)"
        )
    if max_cells is not None and (rows + 1) * columns > max_cells:
        raise ExportTooLarge(
            f"the table has {(rows + 1) * columns} cells with its header row; the limit "
            f"(max_xlsx_export_cells) for an XLSX download is {max_cells}: download it as "
            "CSV (format=csv)"
        )


def write_xlsx(frame: pd.DataFrame, sheet: str, target: str | Path | IO[bytes]) -> None:
    """`frame` as a workbook of one sheet at `target`, written row by row (openpyxl's
    write-only mode: memory stays flat whatever the rows). Text cells and column
    names as `xlsx_text` makes them; zoned datetimes as UTC wall time (Excel has no
    time zones); missing values as empty cells. In short GIL turns (`gilturns`): the
    writer is pure Python, seconds of it for a big table, in a worker thread."""
    with short_turns():
        _write_xlsx(frame, sheet, target)


def _write_xlsx(frame: pd.DataFrame, sheet: str, target: str | Path | IO[bytes]) -> None:
    book = openpyxl.Workbook(write_only=True)
    worksheet = book.create_sheet(sheet_title(sheet))
    worksheet.append([xlsx_text(str(c)) for c in frame.columns])
    columns = []
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        values = series.astype(object).where(series.notna(), None)
        # Only numbers, booleans and dates are written as they come.
        plain = pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_integer_dtype(
            series.dtype
        )
        plain = plain or pd.api.types.is_datetime64_dtype(series.dtype)
        if pd.api.types.is_float_dtype(series.dtype):
            plain = bool(np.isfinite(series.to_numpy(dtype=float, na_value=0.0)).all())
        columns.append((values, not plain))
    for start in range(0, len(frame), _ROWS_PER_STEP):
        pieces = []
        for values, text in columns:
            piece = values.iloc[start : start + _ROWS_PER_STEP].tolist()
            pieces.append([xlsx_text(v) for v in piece] if text else piece)
        for row in zip(*pieces, strict=True):
            worksheet.append(row)
    book.save(target)


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str, max_cells: int | None = None) -> bytes:
    """One worksheet named after the table (`sheet_title`), as `write_xlsx` writes
    it; `ExportTooLarge` as `check_xlsx_size` says."""
    check_xlsx_size(frame, max_cells)
    buffer = io.BytesIO()
    write_xlsx(frame, sheet, buffer)
    return buffer.getvalue()


#: The answers of a table download route, declared once for every such route.
DOWNLOAD_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The whole table as a file (`Content-Disposition: attachment`).",
        "content": {media: {} for media in MEDIA_TYPES.values()},
    },
    400: {
        "description": "XLSX asked for a table over a sheet's 1,048,576 rows or the "
        "`max_xlsx_export_cells` setting (download it as CSV)."
    },
}


def export_response(
    frame: pd.DataFrame,
    table: str,
    fmt: ExportFormat,
    stem: str,
    max_xlsx_cells: int | None = None,
) -> Response:
    """`frame` in `fmt` as a download named `stem`: CSV from memory, XLSX written to
    a temporary file that is streamed and then deleted."""
    headers = {"Content-Disposition": attachment(stem, fmt)}
    if fmt is not ExportFormat.xlsx:
        return Response(to_csv_bytes(frame), media_type=MEDIA_TYPES[fmt], headers=headers)
    check_xlsx_size(frame, max_xlsx_cells)
    handle, path = tempfile.mkstemp(prefix="algomancy-export-", suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(frame, table, path)
    except BaseException:
        os.unlink(path)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        headers=headers,
        background=BackgroundTask(os.unlink, path),
    )


def attachment(stem: str, fmt: ExportFormat) -> str:
    """A `Content-Disposition` value: an ASCII fallback name and the exact UTF-8 one."""
    name = f"{stem}.{fmt.value}"
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_. ") else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
