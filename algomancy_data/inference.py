"""Schemas inferred from sample files: column types, nullability, a candidate key.

`infer_schema(path)` reads a CSV, XLSX or JSON sample with the same readers the ETL
uses and declares what it found: one `Schema` per file, with one table per sheet of
an XLSX file (named after the sheet). Per column:

- the type: ``integer``, ``float``, ``boolean``, ``date``, ``datetime`` or ``string``
  (codes with leading zeros such as ``007`` stay strings; day-first or month-first
  dates get the `formats` that read every sample value);
- `nullable` when the sample has a blank in the column;
- `primary_key` on one column at most: the first column, preferring names such as
  ``id``, ``code`` or ``*_id``, whose values are all filled and all different
  (integers or strings only).

The result is a starting point to read and correct: a sample shows what the data
holds, not what it may hold.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from algomancy_data.files import FILE_TYPES
from algomancy_data.lazy import lazy_module
from algomancy_data.schema import Column, ColumnType, Schema

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

_TRUE_FALSE = {"true", "false", "yes", "no", "y", "n", "t", "f", "waar", "onwaar", "ja", "nee"}
_INTEGER = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+[.,]\d*|[.,]\d+|\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
#: Formats tried for dates that are not ISO, in this order (day first before month first).
DATE_FORMATS = (
    "%d-%m-%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%Y%m%d",
    "%d-%m-%Y %H:%M",
    "%d/%m/%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
)
_KEY_NAMES = re.compile(r"(^|_|\b)(id|code|key|nr|no|number|sku)$", re.IGNORECASE)
#: The file types a schema can be inferred from: the built-in ones.
READERS = FILE_TYPES


def infer_schema(path: str | Path, name: str | None = None) -> Schema:
    """The schema of the sample file at `path` (named after its stem unless `name`)."""
    path = Path(path)
    extension = path.suffix.lower().lstrip(".")
    reader = READERS.get(extension)
    if reader is None:
        known = ", ".join(f".{e}" for e in READERS)
        raise ValueError(f"{path.name}: cannot infer a schema from this file type ({known})")
    file = reader.from_path(path)
    tables = file.read()
    if extension == "csv" and tables:
        # read again as text, so that 007 stays 007 and dates keep their format
        frame = next(iter(tables.values()))
        tables = file.read(column_types=dict.fromkeys(map(str, frame.columns), "string"))
    if not tables:
        raise ValueError(f"{path.name}: holds no table")
    schema_name = name or path.stem
    if extension == "csv" or (extension == "json" and list(tables) == [file.name]):
        columns = infer_columns(next(iter(tables.values())))
        return Schema(schema_name, extension=extension, columns=columns)
    return Schema(
        schema_name,
        extension=extension,
        sheets={table: infer_columns(frame) for table, frame in tables.items()},
    )


def infer_columns(frame: pd.DataFrame) -> list[Column]:
    """The columns of `frame`, typed from its values, with a candidate primary key."""
    found = [_infer_column(str(name), frame[name]) for name in frame.columns]
    key = _candidate_key(frame, found)
    return [
        Column(c.name, c.type, nullable=c.nullable, primary_key=True, formats=c.formats)
        if c.name == key
        else c
        for c in found
    ]


def _blank(series: pd.Series) -> pd.Series:
    blank = series.isna()
    if pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        blank = blank | (series.astype("str").str.strip() == "")
    return blank


def _infer_column(name: str, series: pd.Series) -> Column:
    blank = _blank(series)
    nullable = bool(blank.any())
    values = series[~blank]
    column_type, formats = infer_type(values, nullable)
    return Column(name, column_type, nullable=nullable, formats=formats)


def infer_type(values: pd.Series, nullable: bool = False) -> tuple[ColumnType, list[str] | None]:
    """The type of the filled `values`, and the date formats that read them (or None)."""
    dtype = values.dtype
    if len(values) == 0:
        return ColumnType.STRING, None
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnType.BOOLEAN, None
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _date_or_datetime(values), None
    if pd.api.types.is_integer_dtype(dtype):
        return ColumnType.INTEGER, None
    if pd.api.types.is_float_dtype(dtype):
        # a blank turns a spreadsheet's whole numbers into floats
        integral = bool((values % 1 == 0).all())
        return (ColumnType.INTEGER if integral and nullable else ColumnType.FLOAT), None
    if all(isinstance(v, pd.Timestamp) or hasattr(v, "isoformat") for v in values):
        return _date_or_datetime(pd.to_datetime(values)), None
    return _infer_text(values.astype("str").str.strip())


def _date_or_datetime(values: pd.Series) -> ColumnType:
    midnight = values == values.dt.normalize()
    return ColumnType.DATE if bool(midnight.all()) else ColumnType.DATETIME


def _infer_text(text: pd.Series) -> tuple[ColumnType, list[str] | None]:
    if bool(text.str.lower().isin(_TRUE_FALSE).all()):
        return ColumnType.BOOLEAN, None
    if bool(text.str.match(_INTEGER).all()):
        leading_zero = text.str.lstrip("+-").str.match(r"^0\d")
        return (ColumnType.STRING if bool(leading_zero.any()) else ColumnType.INTEGER), None
    if bool(text.str.match(_FLOAT).all()):
        return ColumnType.FLOAT, None
    if bool(text.str.match(_ISO_DATE).all()):
        return ColumnType.DATE, None
    if bool(text.str.match(_ISO_DATETIME).all()):
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        if bool(parsed.notna().all()):
            return _date_or_datetime(parsed), None
    if bool(text.str.contains(r"\d", regex=True).all()):
        for fmt in DATE_FORMATS:
            parsed = pd.to_datetime(text, format=fmt, errors="coerce")
            if bool(parsed.notna().all()):
                kind = ColumnType.DATETIME if "%H" in fmt else ColumnType.DATE
                return kind, [fmt]
    return ColumnType.STRING, None


def _candidate_key(frame: pd.DataFrame, columns: Sequence[Column]) -> str | None:
    candidates = []
    for position, column in enumerate(columns):
        if column.nullable or column.column_type not in (ColumnType.INTEGER, ColumnType.STRING):
            continue
        values = frame.iloc[:, position]
        if isinstance(values, pd.Series) and values.is_unique and len(values):
            candidates.append(column.name)
    preferred = [name for name in candidates if _KEY_NAMES.search(name)]
    chosen = preferred or candidates
    return chosen[0] if chosen else None
