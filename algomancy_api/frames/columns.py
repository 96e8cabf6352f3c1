"""One DataFrame column as a frame field: its contract type and its JSON values
(datetimes as UTC epoch milliseconds, non-finite numbers as null).

A value's missing forms all become ``None`` as in the DataSource JSON format
(`algomancy_data.serialization.object_values`); the rest differs by contract."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from typing import TYPE_CHECKING, Any

from algomancy_api.frames.models import FieldType
from algomancy_data.lazy import lazy_module
from algomancy_data.serialization import object_values

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

_MS_DTYPE = "datetime64[ms]"


def _null_out(values: list[Any], mask: np.ndarray) -> list[Any]:
    for index in np.flatnonzero(mask).tolist():
        values[index] = None
    return values


def epoch_ms(series: pd.Series) -> list[Any]:
    """Datetimes as UTC epoch milliseconds; naive datetimes are taken to be UTC."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert(None)
    stamps = series.to_numpy()
    # numpy floors when coarsening units, so sub-millisecond parts are dropped.
    values: list[Any] = stamps.astype(_MS_DTYPE).astype(np.int64).tolist()
    return _null_out(values, np.isnat(stamps))


def _to_json_value(value: Any) -> Any:
    """One cell of an object column as a JSON value; TypeError if it has none."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return _to_json_value(value.item())
    if isinstance(value, dict):
        return {str(key): _to_json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json_value(item) for item in value]
    if isinstance(value, np.ndarray):
        return [_to_json_value(item) for item in value.tolist()]
    if isinstance(value, dt.datetime):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
        return stamp.value // 1_000_000
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return _to_json_value(float(value))
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _mixed_column(objects: list[Any], mask: np.ndarray) -> tuple[FieldType, list[Any]]:
    values = _null_out(objects, mask)
    try:
        return "json", [_to_json_value(value) for value in values]
    except (TypeError, ValueError):
        pass
    converted: list[Any] = []
    for value in values:
        try:
            converted.append(_to_json_value(value))
        except (TypeError, ValueError):
            converted.append(str(value))
    return "unknown", converted


def _object_column(series: pd.Series) -> tuple[FieldType, list[Any]]:
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    mask = series.isna().to_numpy()
    if inferred == "empty":
        return "unknown", [None] * len(series)
    if inferred == "string":
        return "string", _null_out(series.to_numpy(dtype=object).tolist(), mask)
    if inferred == "boolean":
        return field_values(series.astype("boolean"))
    if inferred == "integer":
        try:
            return field_values(series.astype("Int64"))
        except (OverflowError, TypeError, ValueError):
            pass
    if inferred in ("floating", "mixed-integer-float", "decimal"):
        return field_values(series.astype("float64"))
    if inferred in ("datetime", "datetime64"):
        try:
            return field_values(pd.to_datetime(series, utc=True))
        except (TypeError, ValueError):
            pass
    if inferred in ("timedelta", "timedelta64"):
        return field_values(pd.to_timedelta(series))
    objects = _null_out(series.to_numpy(dtype=object).tolist(), mask)
    if inferred in ("date", "time") and not any(
        isinstance(value, dt.datetime) for value in objects
    ):
        kind: FieldType = "date" if inferred == "date" else "time"
        return kind, [None if value is None else value.isoformat() for value in objects]
    if inferred in ("period", "interval"):
        return "string", [None if value is None else str(value) for value in objects]
    return _mixed_column(objects, mask)


def field_values(series: pd.Series) -> tuple[FieldType, list[Any]]:
    """Converts one column at once into its contract type and a list of JSON values."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        kind, categories = field_values(pd.Series(dtype.categories))
        codes = series.cat.codes.to_numpy().tolist()
        return kind, [categories[code] if code >= 0 else None for code in codes]
    if isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        return "datetime", epoch_ms(series)
    if isinstance(dtype, np.dtype):
        if dtype.kind == "m":
            spans = series.to_numpy(dtype=dtype)
            ms = spans.astype("timedelta64[ms]").astype(np.int64).tolist()
            return "integer", _null_out(ms, np.isnat(spans))
        if dtype.kind == "b":
            return "boolean", series.to_numpy().tolist()
        if dtype.kind in "iu":
            return "integer", series.to_numpy().tolist()
        if dtype.kind == "f":
            numbers = series.to_numpy(dtype=np.float64)
            return "number", _null_out(numbers.tolist(), ~np.isfinite(numbers))
        if dtype.kind == "O":
            return _object_column(series)
        if dtype.kind == "c":
            return _mixed_column(series.to_numpy(dtype=object).tolist(), series.isna().to_numpy())
    if isinstance(dtype, pd.BooleanDtype):
        return "boolean", object_values(series).tolist()
    if isinstance(dtype, pd.StringDtype):
        return "string", object_values(series).tolist()
    if pd.api.types.is_integer_dtype(dtype):
        return "integer", object_values(series).tolist()
    if pd.api.types.is_float_dtype(dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return "number", _null_out(numbers.tolist(), ~np.isfinite(numbers))
    # Arrow, period, interval, sparse and other extension types: their Python objects.
    return _object_column(series.astype(object))


def has_nulls(series: pd.Series) -> bool:
    if pd.api.types.is_float_dtype(series.dtype):
        # Infinities have no JSON form either; they are sent as null.
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return bool((~np.isfinite(numbers)).any())
    return bool(series.isna().any())
