"""Building a ``core.tabular_frame@v1`` frame from a DataFrame: rows sliced, fields
described, a time series detected, and the frame as JSON bytes."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

import orjson

from algomancy_api.frames.columns import epoch_ms, field_values, has_nulls
from algomancy_api.frames.models import (
    TabularFrameSourceResponse,
)
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


def _time_series_meta(
    columns: list[str],
    fields: list[dict[str, Any]],
    time_values: list[Any],
    *,
    time_field: str,
    value_field: str | None,
    value_fields: Sequence[str] | None,
    series_field: str | None,
) -> dict[str, Any]:
    for name in (value_field, series_field, *(value_fields or ())):
        if name is not None and name not in columns:
            raise ValueError(f"{name!r} is not a column of the frame")
    meta: dict[str, Any] = {
        "timeField": time_field,
        "timeUnit": "ms",
        "timezone": "UTC",
        "sorted": None not in time_values
        and all(earlier <= later for earlier, later in pairwise(time_values)),
    }
    if value_field is not None:
        if value_fields is not None:
            raise ValueError("give value_field (long shape) or value_fields (wide), not both")
        meta["shape"] = "long"
        meta["valueField"] = value_field
    else:
        if value_fields is None:
            excluded = {time_field, series_field}
            value_fields = [
                field["key"]
                for field in fields
                if field["type"] in ("integer", "number") and field["key"] not in excluded
            ]
        if not value_fields:
            raise ValueError("a wide time series needs at least one numeric value column")
        meta["shape"] = "wide"
        meta["valueFields"] = list(value_fields)
    if series_field is not None:
        meta["seriesField"] = series_field
    return meta


def frame_from_dataframe(
    df: pd.DataFrame,
    *,
    source: TabularFrameSourceResponse | None = None,
    offset: int = 0,
    limit: int | None = None,
    time_field: str | None = None,
    value_field: str | None = None,
    value_fields: Sequence[str] | None = None,
    series_field: str | None = None,
) -> dict[str, Any]:
    """The rows ``offset`` to ``offset + limit`` of ``df`` as a JSON-ready frame dict.

    Column names become strings and the index is dropped (``reset_index()`` first to
    keep it). Datetimes become UTC epoch milliseconds (naive ones are read as UTC),
    dates and times ISO strings, every kind of missing value ``None``. Field types
    and ``nullable`` describe the whole column, not only the rows returned.

    With ``time_field`` the frame gets ``meta.timeSeries``: ``long`` with
    ``value_field``, otherwise ``wide`` over ``value_fields`` (by default every
    numeric column but the time and series fields). The time field must hold
    datetimes, dates (sent as midnight UTC) or integer epoch milliseconds.
    """
    if offset < 0:
        raise ValueError("offset must not be negative")
    if limit is not None and limit < 0:
        raise ValueError("limit must not be negative")
    columns = [str(name) for name in df.columns]
    if len(set(columns)) != len(columns):
        raise ValueError("column names must be unique as strings")
    if any(not name.strip() for name in columns):
        raise ValueError("column names must not be blank")
    if time_field is not None and time_field not in columns:
        raise ValueError(f"time_field {time_field!r} is not a column of the frame")

    stop = None if limit is None else offset + limit
    window = df.iloc[offset:stop]
    fields: list[dict[str, Any]] = []
    values: list[list[Any]] = []
    time_values: list[Any] = []
    for position, name in enumerate(columns):
        series = window.iloc[:, position]
        kind, column_values = field_values(series)
        if name == time_field:
            if kind == "date":
                kind, column_values = "datetime", epoch_ms(pd.to_datetime(series.astype(object)))
            elif kind not in ("datetime", "integer"):
                raise ValueError(
                    f"time_field {name!r} must hold datetimes, dates or epoch milliseconds"
                )
            time_values = column_values
        fields.append(
            {
                "key": name,
                "label": name,
                "type": kind,
                "nullable": has_nulls(df.iloc[:, position]),
                "nativeType": str(series.dtype),
                "provenance": "backend",
            }
        )
        values.append(column_values)

    rows = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
    if not columns:
        rows = [{} for _ in range(len(window))]
    frame: dict[str, Any] = {"status": "ready", "columns": columns, "rows": rows, "fields": fields}
    if time_field is not None:
        frame["meta"] = {
            "timeSeries": _time_series_meta(
                columns,
                fields,
                time_values,
                time_field=time_field,
                value_field=value_field,
                value_fields=value_fields,
                series_field=series_field,
            )
        }
    if source is not None:
        frame["source"] = source.to_json_dict()
    return frame


class FrameOptions(TypedDict, total=False):
    """The keyword arguments of `frame_from_dataframe`."""

    source: TabularFrameSourceResponse | None
    offset: int
    limit: int | None
    time_field: str | None
    value_field: str | None
    value_fields: Sequence[str] | None
    series_field: str | None


def frame_json_bytes(df: pd.DataFrame, **options: Unpack[FrameOptions]) -> bytes:
    """``frame_from_dataframe(df, **options)`` serialised to JSON bytes, ready for a
    ``Response``."""
    return orjson.dumps(frame_from_dataframe(df, **options))
