"""Coercing a table to its schema: each column converted to its declared type, the
values that do not convert reported (by row) as ETL messages, and primary keys checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from algomancy_data.dates import parse_dates
from algomancy_data.lazy import lazy_module
from algomancy_data.schema import Column, ColumnType
from algomancy_data.validation import Severity, ValidationMessage

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

_SHOWN_ROWS = 5
_TRUE = ("true", "t", "yes", "y", "1", "1.0", "waar", "ja")
_FALSE = ("false", "f", "no", "n", "0", "0.0", "onwaar", "nee")
_TICKS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
_BOOLEANS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def coerce_table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    table: str,
    messages: list[ValidationMessage],
) -> pd.DataFrame:
    """`frame` with the declared columns found, defaulted and coerced; findings to `messages`.

    Column names match ignoring case and surrounding spaces and are renamed to the
    declared spelling. Undeclared columns are kept after the declared ones.
    """
    duplicated = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated:
        messages.append(
            error_message(
                f"table {table!r} repeats the column name(s) {', '.join(map(str, duplicated))}",
                "duplicate_column",
                table,
                str(duplicated[0]),
            )
        )
        return frame
    lookup = {str(c).strip().casefold(): c for c in frame.columns}
    data: dict[str, pd.Series] = {}
    used: set[Any] = set()
    for column in columns:
        found = lookup.get(column.name.strip().casefold())
        if found is None:
            if column.required:
                messages.append(
                    error_message(
                        f"table {table!r} lacks the required column {column.name!r}",
                        "missing_column",
                        table,
                        column.name,
                    )
                )
                continue
            fill = pd.Series([column.default] * len(frame), index=frame.index, dtype=object)
            data[column.name] = _coerce_column(fill, column, table, messages)
            continue
        used.add(found)
        data[column.name] = _coerce_column(frame[found], column, table, messages)
    extra = [c for c in frame.columns if c not in used]
    if extra:
        messages.append(
            ValidationMessage(
                Severity.INFO,
                f"table {table!r} has undeclared columns, kept as read: "
                + ", ".join(map(str, extra)),
                table=table,
                code="extra_columns",
            )
        )
    for name in extra:
        data[str(name)] = frame[name]
    result = pd.DataFrame(data, index=frame.index, copy=False)
    if not isinstance(result.index, pd.RangeIndex):
        result = result.reset_index(drop=True)
    _check_primary_key(
        result, [c.name for c in columns if c.primary_key and c.name in data], table, messages
    )
    return result


def _coerce_column(
    series: pd.Series, column: Column, table: str, messages: list[ValidationMessage]
) -> pd.Series:
    try:
        converted, unconvertible = _CONVERTERS[column.column_type](series, column)
    except Exception as exc:  # pandas can raise on odd mixtures; report, do not crash
        messages.append(
            error_message(
                f"table {table!r} column {column.name!r} cannot be read as "
                f"{column.column_type.value}: {exc}",
                "invalid_value",
                table,
                column.name,
            )
        )
        return series
    # Each column's nulls are found once: where the converted column has none (most
    # columns), no value failed to convert and the read column's nulls are not needed.
    converted_nulls: np.ndarray | None = None
    if unconvertible is None:
        converted_nulls = converted.isna().to_numpy()
        bad = (
            converted_nulls & ~series.isna().to_numpy()
            if converted_nulls.any()
            else converted_nulls
        )
    else:
        bad = unconvertible
    if bad.any():
        _report_rows(
            messages,
            series,
            bad,
            f"table {table!r} column {column.name!r}: {{count}} value(s) are not "
            f"{_article(column.column_type.value)}"
            + (f" in the formats {', '.join(column.formats)}" if column.formats else ""),
            "invalid_value",
            table,
            column.name,
        )
    if not column.nullable:
        if converted_nulls is None:
            converted_nulls = converted.isna().to_numpy()
        nulls = converted_nulls & ~bad
        if nulls.any():
            code = "null_key" if column.primary_key else "null_value"
            _report_rows(
                messages,
                None,
                nulls,
                f"table {table!r} column {column.name!r}: {{count}} empty value(s) in a "
                "column that must be filled",
                code,
                table,
                column.name,
            )
    return converted


def _article(type_name: str) -> str:
    return f"an {type_name}" if type_name[0] in "aeiou" else f"a {type_name}"


def _report_rows(
    messages: list[ValidationMessage],
    values: pd.Series | None,
    mask: np.ndarray,
    template: str,
    code: str,
    table: str,
    column: str | None,
) -> None:
    positions = np.flatnonzero(mask)
    shown = positions[:_SHOWN_ROWS]
    rows = [int(p) + 1 for p in shown]
    detail = ", ".join(str(r) for r in rows)
    if values is not None:
        samples = values.iloc[shown].tolist()
        detail = ", ".join(f"{r} ({v!r})" for r, v in zip(rows, samples, strict=True))
    more = "" if len(positions) <= _SHOWN_ROWS else ", …"
    message = template.format(count=len(positions)) + f"; rows {detail}{more}"
    messages.append(error_message(message, code, table, column, rows[0]))


def _check_primary_key(
    frame: pd.DataFrame, key: list[str], table: str, messages: list[ValidationMessage]
) -> None:
    if not key:
        return
    if len(key) == 1 and pd.Index(frame[key[0]]).is_unique:
        return
    duplicated = (
        frame.duplicated(subset=key, keep=False).to_numpy()
        & ~frame[key].isna().any(axis=1).to_numpy()
    )
    if duplicated.any():
        label = ", ".join(key)
        sample = frame[key[0]] if len(key) == 1 else None
        _report_rows(
            messages,
            sample,
            duplicated,
            f"table {table!r}: {{count}} rows share a primary key ({label}) with another row",
            "duplicate_key",
            table,
            key[0] if len(key) == 1 else None,
        )


# Each converter returns the coerced series and either None (bad values are those that
# became null) or an explicit mask of values that could not be converted.
Converted = tuple["pd.Series", "np.ndarray | None"]


def _to_number(series: pd.Series) -> Converted:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64"), None
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series, None
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna().to_numpy() & series.notna().to_numpy()
    if bad.any() and (pd.api.types.is_string_dtype(series.dtype) or series.dtype == object):
        # decimal commas, as written by European spreadsheets
        retry = pd.to_numeric(
            series[bad].astype("str").str.replace(",", ".", regex=False), errors="coerce"
        )
        numbers = numbers.astype("float64")
        numbers[bad] = retry
        bad = numbers.isna().to_numpy() & series.notna().to_numpy()
    return numbers, bad


def _convert_float(series: pd.Series, column: Column) -> Converted:
    numbers, bad = _to_number(series)
    return numbers.astype("float64"), bad


def _convert_integer(series: pd.Series, column: Column) -> Converted:
    if series.dtype.kind in "iu" and isinstance(series.dtype, np.dtype):
        return series.astype("Int64" if column.nullable else "int64"), None
    numbers, bad = _to_number(series)
    values = numbers.astype("float64") if numbers.dtype.kind != "i" else numbers
    fractional = (values % 1 != 0).to_numpy() & values.notna().to_numpy()
    if fractional.any():
        values = values.mask(fractional)
        bad = fractional if bad is None else (bad | fractional)
    has_nulls = bool(values.isna().any())
    if column.nullable or has_nulls:
        return values.astype("Int64"), bad
    return values.astype("int64"), bad


def _convert_string(series: pd.Series, column: Column) -> Converted:
    # a string column always converts: nothing is unconvertible
    unconvertible = np.zeros(len(series), dtype=bool)
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.na_value is not pd.NA:
        return series, unconvertible
    return series.astype("str"), unconvertible


def _convert_boolean(series: pd.Series, column: Column) -> Converted:
    if series.dtype == bool:
        return series if not column.nullable else series.astype("boolean"), None
    if str(series.dtype) == "boolean":
        values = series
        bad = None
    elif pd.api.types.is_numeric_dtype(series.dtype):
        values = series.map({1: True, 0: False}).astype("boolean")
        bad = None
    else:
        text = series.astype("str").str.strip().str.lower()
        values = text.map(_BOOLEANS).astype("boolean")
        bad = None
    has_nulls = bool(values.isna().any())
    if column.nullable or has_nulls:
        return values, bad
    return values.astype("bool"), bad


def _convert_datetime(series: pd.Series, column: Column) -> Converted:
    if column.formats:
        return parse_dates(series, column.formats)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series, None
    values = pd.to_datetime(series, errors="coerce", format="ISO8601")
    bad = values.isna().to_numpy() & series.notna().to_numpy()
    if bad.any():
        retry = pd.to_datetime(series[bad], errors="coerce", format="mixed", dayfirst=True)
        values[bad] = retry
    return values, None


def _convert_date(series: pd.Series, column: Column) -> Converted:
    values, bad = _convert_datetime(series, column)
    if values.dt.tz is None:
        ticks = values.to_numpy().view("int64")
        per_day = _TICKS_PER_DAY[values.dt.unit]
        if not (ticks % per_day).any():  # already at midnight (NaT is a multiple too)
            return values, bad
    return values.dt.normalize(), bad


def _convert_category(series: pd.Series, column: Column) -> Converted:
    if column.categories is None:
        if isinstance(series.dtype, pd.CategoricalDtype):
            # categories in sorted order, whichever reader built them
            categories = series.cat.categories
            if not categories.is_monotonic_increasing:
                series = series.cat.reorder_categories(categories.sort_values())
            return series, None
        return series.astype("category"), None
    dtype = pd.CategoricalDtype(list(column.categories))
    bad = series.notna().to_numpy() & ~series.isin(dtype.categories).to_numpy()
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(series.cat.categories.dtype)
    return series.where(~bad).astype(dtype), bad


_CONVERTERS = {
    ColumnType.INTEGER: _convert_integer,
    ColumnType.FLOAT: _convert_float,
    ColumnType.STRING: _convert_string,
    ColumnType.BOOLEAN: _convert_boolean,
    ColumnType.DATETIME: _convert_datetime,
    ColumnType.DATE: _convert_date,
    ColumnType.CATEGORY: _convert_category,
}


def error_message(
    message: str,
    code: str,
    table: str | None = None,
    column: str | None = None,
    row: int | None = None,
) -> ValidationMessage:
    return ValidationMessage(Severity.ERROR, message, table, column, row, code)


def critical_message(message: str, code: str, table: str | None = None) -> ValidationMessage:
    return ValidationMessage(Severity.CRITICAL, message, table, None, None, code)
