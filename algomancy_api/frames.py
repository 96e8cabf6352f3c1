"""The ``core.tabular_frame@v1`` contract: response models and a DataFrame builder.

The models mirror ``tabular-frame-v1.schema.json`` (JSON Schema draft 2020-12) field
for field, with the schema's camelCase names as attribute names so that the input
and output schemas FastAPI publishes are identical and the OpenAPI component is
named exactly ``TabularFrameResponse``. Validation is strict: the schema does not
coerce ``"1"`` to ``1`` or ``true`` to a number, so neither do the models.

The schema forbids ``null`` where the models use ``None`` for "absent"; serialise
with ``to_json_dict()`` or ``response_model_exclude_none=True``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

import orjson
from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

__all__ = [
    "FRAME_OPENAPI_EXTRA",
    "TABULAR_FRAME_CONTRACT",
    "FieldType",
    "TableVisualColorScaleResponse",
    "TableVisualColumnResponse",
    "TableVisualRangeResponse",
    "TableVisualThresholdResponse",
    "TableVisualsResponse",
    "TabularFrameFieldResponse",
    "TabularFrameMetaResponse",
    "TabularFrameResponse",
    "TabularFrameSourceResponse",
    "TabularTimeSeriesMetaResponse",
    "frame_from_dataframe",
    "frame_json_bytes",
]

TABULAR_FRAME_CONTRACT = "core.tabular_frame@v1"
FRAME_OPENAPI_EXTRA: dict[str, Any] = {"x-ui-contract": TABULAR_FRAME_CONTRACT}

FieldType = Literal[
    "string", "number", "integer", "boolean", "datetime", "date", "time", "json", "unknown"
]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("items must be unique")
    return values


def _integral_float_to_int(value: Any) -> Any:
    # JSON Schema counts 2.0 as an integer; pydantic's strict int would not.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


NonEmptyString = Annotated[str, StringConstraints(pattern=r".*\S.*")]
StringArray = Annotated[list[NonEmptyString], AfterValidator(_unique)]
JsonInteger = Annotated[int, BeforeValidator(_integral_float_to_int)]
JsonNumber = int | Annotated[float, AllowInfNan(False)]


class _ContractModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON-ready dict the contract expects: camelCase keys, no ``None`` values."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


class TableVisualThresholdResponse(_ContractModel):
    """A conditional style applied when a cell compares to ``value``."""

    backgroundColor: str | None = None
    id: NonEmptyString | None = None
    operator: Literal["gt", "gte", "lt", "lte", "eq"]
    textColor: str | None = None
    tone: Literal["neutral", "primary", "success", "warning", "danger"] | None = None
    value: JsonNumber


class TableVisualColorScaleResponse(_ContractModel):
    """Colours for negative, neutral and positive values of a column."""

    negative: str | None = None
    neutral: str | None = None
    positive: str | None = None


class TableVisualRangeResponse(_ContractModel):
    """The value range a column's visual encodings scale over."""

    min: JsonNumber | None = None
    max: JsonNumber | None = None
    midpoint: JsonNumber | None = None
    clamp: bool | None = None


class TableVisualColumnResponse(_ContractModel):
    """How a table consumer should format and decorate one column."""

    label: str | None = None
    format: (
        Literal["number", "price", "percent", "volume", "currency", "datetime", "formula"] | None
    ) = None
    formulaExpression: NonEmptyString | None = None
    formulaResultFormat: (
        Literal["text", "datetime", "number", "currency", "percent", "bps"] | None
    ) = None
    dateTimeInputFormat: str | None = None
    dateTimeOutputFormat: str | None = None
    decimals: Annotated[JsonInteger, Field(ge=0, le=6)] | None = None
    visible: bool | None = None
    colorScale: TableVisualColorScaleResponse | None = None
    range: TableVisualRangeResponse | None = None
    thresholds: list[TableVisualThresholdResponse] | None = None
    heatmap: bool | None = None
    barMode: Literal["none", "fill"] | None = None
    gradientMode: Literal["none", "fill"] | None = None
    heatmapPalette: (
        Literal[
            "auto",
            "viridis",
            "plasma",
            "inferno",
            "magma",
            "turbo",
            "jet",
            "blue-white-red",
            "red-yellow-green",
        ]
        | None
    ) = None
    gaugeMode: Literal["none", "ring"] | None = None
    visualRangeMode: Literal["auto", "fixed"] | None = None
    visualMin: JsonNumber | None = None
    visualMax: JsonNumber | None = None
    kind: Literal["sparkline", "bar", "heatmap"] | None = None
    encoding: Literal["csv-number", "json-number-array", "number-array"] | None = None
    order: Literal["oldest-to-newest", "newest-to-oldest"] | None = None
    width: Annotated[JsonNumber, Field(gt=0)] | None = None


class TableVisualsResponse(_ContractModel):
    """Per-column table presentation, keyed by column name."""

    columns: dict[str, TableVisualColumnResponse] | None = None


class TabularTimeSeriesMetaResponse(_ContractModel):
    """Tells time-aware consumers how to read the frame as time series.

    ``long`` frames hold one value column (``valueField``), optionally split by
    ``seriesField``; ``wide`` frames hold one column per series (``valueFields``).
    """

    shape: Literal["long", "wide"]
    timeField: NonEmptyString
    timeUnit: Literal["ms"] = "ms"
    timezone: Literal["UTC"] = "UTC"
    sorted: bool
    valueField: NonEmptyString | None = None
    seriesField: NonEmptyString | None = None
    seriesLabelFields: StringArray | None = None
    valueFields: StringArray | None = None
    frequency: NonEmptyString | None = None
    calendar: NonEmptyString | None = None
    gapPolicy: Literal["preserve_nulls", "drop_nulls"] | None = None
    duplicatePolicy: Literal["error", "first", "latest", "aggregate", "preserve"] | None = None
    unitByField: dict[str, NonEmptyString] | None = None

    @model_validator(mode="after")
    def _check_shape(self) -> Self:
        if self.shape == "long":
            if self.valueField is None:
                raise ValueError("a long time series needs valueField")
            if self.valueFields is not None:
                raise ValueError("a long time series must not have valueFields")
        else:
            if not self.valueFields:
                raise ValueError("a wide time series needs at least one of valueFields")
            if self.valueField is not None:
                raise ValueError("a wide time series must not have valueField")
        return self


class TabularFrameMetaResponse(_ContractModel):
    """Frame metadata; keys other than the two known ones are kept as they are."""

    model_config = ConfigDict(extra="allow")

    timeSeries: TabularTimeSeriesMetaResponse | None = None
    tableVisuals: TableVisualsResponse | None = None


class TabularFrameFieldResponse(_ContractModel):
    """Schema and provenance of one column."""

    key: NonEmptyString
    label: NonEmptyString | None = None
    description: str | None = None
    type: FieldType
    nullable: bool | None = None
    nativeType: str | None = None
    provenance: Literal["backend", "manual", "inferred", "derived"] | None = None
    reason: str | None = None
    derivedFrom: StringArray | None = None
    warnings: StringArray | None = None


class TabularFrameSourceResponse(_ContractModel):
    """Where the frame came from; source-specific details belong in ``context``."""

    kind: NonEmptyString
    id: NonEmptyString | int | Annotated[float, AllowInfNan(False)] | None = None
    label: NonEmptyString | None = None
    updatedAtMs: JsonInteger | None = None
    context: dict[str, Any] | None = None


class TabularFrameResponse(_ContractModel):
    """A ``core.tabular_frame@v1`` value: ordered columns, rows keyed by column name."""

    status: Literal["idle", "loading", "ready", "error"]
    error: str | None = None
    columns: Annotated[list[NonEmptyString], AfterValidator(_unique)]
    rows: list[dict[str, Any]]
    fields: list[TabularFrameFieldResponse] | None = None
    meta: TabularFrameMetaResponse | None = None
    source: TabularFrameSourceResponse | None = None


# --- Building frames from DataFrames -------------------------------------------------

_MS_DTYPE = "datetime64[ms]"


def _null_out(values: list[Any], mask: np.ndarray) -> list[Any]:
    for index in np.flatnonzero(mask).tolist():
        values[index] = None
    return values


def _objects(series: pd.Series) -> list[Any]:
    """The column's Python objects, every kind of missing value as ``None``."""
    return _null_out(series.to_numpy(dtype=object).tolist(), series.isna().to_numpy())


def _epoch_ms(series: pd.Series) -> list[Any]:
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
        return _column(series.astype("boolean"))
    if inferred == "integer":
        try:
            return _column(series.astype("Int64"))
        except (OverflowError, TypeError, ValueError):
            pass
    if inferred in ("floating", "mixed-integer-float", "decimal"):
        return _column(series.astype("float64"))
    if inferred in ("datetime", "datetime64"):
        try:
            return _column(pd.to_datetime(series, utc=True))
        except (TypeError, ValueError):
            pass
    if inferred in ("timedelta", "timedelta64"):
        return _column(pd.to_timedelta(series))
    objects = _null_out(series.to_numpy(dtype=object).tolist(), mask)
    if inferred in ("date", "time") and not any(
        isinstance(value, dt.datetime) for value in objects
    ):
        kind: FieldType = "date" if inferred == "date" else "time"
        return kind, [None if value is None else value.isoformat() for value in objects]
    if inferred in ("period", "interval"):
        return "string", [None if value is None else str(value) for value in objects]
    return _mixed_column(objects, mask)


def _column(series: pd.Series) -> tuple[FieldType, list[Any]]:
    """Converts one column at once into its contract type and a list of JSON values."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        kind, categories = _column(pd.Series(dtype.categories))
        codes = series.cat.codes.to_numpy().tolist()
        return kind, [categories[code] if code >= 0 else None for code in codes]
    if isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        return "datetime", _epoch_ms(series)
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
        return "boolean", _objects(series)
    if isinstance(dtype, pd.StringDtype):
        return "string", _objects(series)
    if pd.api.types.is_integer_dtype(dtype):
        return "integer", _objects(series)
    if pd.api.types.is_float_dtype(dtype):
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return "number", _null_out(numbers.tolist(), ~np.isfinite(numbers))
    # Arrow, period, interval, sparse and other extension types: their Python objects.
    return _object_column(series.astype(object))


def _has_nulls(series: pd.Series) -> bool:
    if pd.api.types.is_float_dtype(series.dtype):
        # Infinities have no JSON form either; they are sent as null.
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return bool((~np.isfinite(numbers)).any())
    return bool(series.isna().any())


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
        kind, column_values = _column(series)
        if name == time_field:
            if kind == "date":
                kind, column_values = "datetime", _epoch_ms(pd.to_datetime(series.astype(object)))
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
                "nullable": _has_nulls(df.iloc[:, position]),
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


def frame_json_bytes(
    df: pd.DataFrame,
    *,
    source: TabularFrameSourceResponse | None = None,
    offset: int = 0,
    limit: int | None = None,
    time_field: str | None = None,
    value_field: str | None = None,
    value_fields: Sequence[str] | None = None,
    series_field: str | None = None,
) -> bytes:
    """``frame_from_dataframe`` serialised to JSON bytes, ready for a ``Response``."""
    return orjson.dumps(
        frame_from_dataframe(
            df,
            source=source,
            offset=offset,
            limit=limit,
            time_field=time_field,
            value_field=value_field,
            value_fields=value_fields,
            series_field=series_field,
        )
    )
