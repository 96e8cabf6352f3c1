"""The ``core.tabular_frame@v1`` contract: response models and a DataFrame builder.

The models mirror ``tabular-frame-v1.schema.json`` (JSON Schema draft 2020-12) field
for field, with the schema's camelCase names as attribute names so that the input
and output schemas FastAPI publishes are identical and the OpenAPI component is
named exactly ``TabularFrameResponse``. Validation is strict: the schema does not
coerce ``"1"`` to ``1`` or ``true`` to a number, so neither do the models.

The schema forbids ``null`` where the models use ``None`` for "absent"; serialise
with ``to_json_dict()`` or ``response_model_exclude_none=True``.

The models are in `models`, the column conversion in `columns`, the builder in
`build`; every name imports from here.
"""

from __future__ import annotations

from algomancy_api.frames.build import frame_from_dataframe, frame_json_bytes
from algomancy_api.frames.models import (
    FRAME_OPENAPI_EXTRA,
    TABULAR_FRAME_CONTRACT,
    FieldType,
    TableVisualColorScaleResponse,
    TableVisualColumnResponse,
    TableVisualRangeResponse,
    TableVisualsResponse,
    TableVisualThresholdResponse,
    TabularFrameFieldResponse,
    TabularFrameMetaResponse,
    TabularFrameResponse,
    TabularFrameSourceResponse,
    TabularTimeSeriesMetaResponse,
)

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
