"""The ``core.tabular_frame@v1`` response models, field for field as the contract's
JSON Schema names them (see the package's docstring)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

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
