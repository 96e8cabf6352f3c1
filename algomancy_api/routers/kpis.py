"""The KPI comparison of a session's scenarios, as a tabular frame."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from algomancy_api.compare import (
    PARAMETER_PREFIX,
    Comparison,
    compare,
    delta_column,
    relative_column,
    verdict_column,
)
from algomancy_api.deps import ManagerDep
from algomancy_api.frames import (
    FRAME_OPENAPI_EXTRA,
    TabularFrameResponse,
    TabularFrameSourceResponse,
    frame_from_dataframe,
)
from algomancy_api.routers import JSON, Responses
from algomancy_core.decisions import DEFAULT_TOLERANCE

router = APIRouter(prefix="/sessions/{session_id}", tags=["frames"])

#: The query of every comparison (frame, report).
Ids = Annotated[
    list[str] | None,
    Query(
        description="The scenarios to compare, by id or tag, in order: repeated "
        "(`ids=a&ids=b`) or comma-separated. All of the session's by default."
    ),
]
Baseline = Annotated[
    str | None,
    Query(
        description="Compare against this scenario (id or tag), or `pinned` for the "
        "session's pinned baseline: adds per KPI `<kpi>.delta`, `<kpi>.delta_rel` "
        "and `<kpi>.verdict`, and a `baseline` column."
    ),
]
Tolerance = Annotated[
    float,
    Query(ge=0, le=1e6, description="Relative tolerance of the verdict `equal`."),
]
Parameters = Annotated[
    bool, Query(description="Add a `param.<name>` column per algorithm parameter.")
]
DiffOnly = Annotated[
    bool,
    Query(description="Parameter columns only for the parameters that differ (implies them)."),
]
COMPARE_ANSWERS: Responses = {
    404: {"description": "No such session, or a scenario in `ids`/`baseline` not found."},
    409: {"description": "`baseline=pinned` and the session has no pinned baseline."},
}


def comparison_frame(comparison: Comparison, session_id: str, label: str) -> dict[str, Any]:
    """The comparison as a `core.tabular_frame@v1` dict, with column labels and formats."""
    source = TabularFrameSourceResponse(
        kind="kpi-comparison",
        id=session_id,
        label=label,
        context=comparison.context(),
    )
    frame = frame_from_dataframe(comparison.frame, source=source)
    visuals: dict[str, Any] = {}
    for name, kpi in comparison.kpis.items():
        unit = f" ({kpi.unit})" if kpi.unit else ""
        visuals[name] = {"label": f"{name}{unit}", "format": "number"}
        if comparison.baseline is not None:
            visuals[delta_column(name)] = {"label": f"Δ {name}{unit}", "format": "number"}
            visuals[relative_column(name)] = {"label": f"Δ% {name}", "format": "percent"}
            visuals[verdict_column(name)] = {"label": f"{name}: verdict"}
    for name in comparison.parameters:
        visuals[PARAMETER_PREFIX + name] = {"label": name}
    frame["meta"] = {"tableVisuals": {"columns": visuals}}
    return frame


@router.get(
    "/kpis/frame",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="Compare the scenarios' KPIs (tabular frame)",
    openapi_extra=FRAME_OPENAPI_EXTRA,
    responses=COMPARE_ANSWERS,
)
def kpi_frame(
    manager: ManagerDep,
    ids: Ids = None,
    baseline: Baseline = None,
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    parameters: Parameters = False,
    diff_only: DiffOnly = False,
) -> Response:
    """One row per scenario: tag, algorithm, dataset, status, then one column per
    KPI (null until the scenario is complete; a binary KPI's 1 pass, 0 fail, and a
    `{name} details` column after the KPIs), as `core.tabular_frame@v1`. The source's
    context gives units, directions, thresholds, `quantities`, the `binary` KPIs and
    each quantity's values as displayed (`displays`).

    With `baseline`, the baseline's row comes first and each KPI gains its absolute
    and relative delta (relative null where the baseline's value is 0; both null
    where a value is missing) and a verdict: `improved`, `worse` or `equal` (within
    `tolerance`) for `higher`/`lower` KPIs, `pass`/`fail` against the threshold for
    `at_least`/`at_most` ones, `missing` without a value. `source.context` carries
    units, directions, thresholds, the scenario ids in row order and the pinned
    baseline's id."""
    comparison = compare(
        manager,
        ids,
        baseline,
        tolerance=tolerance,
        parameters=parameters,
        diff_only=diff_only,
    )
    label = f"KPIs of session {manager.display_name}"
    frame = comparison_frame(comparison, manager.session_id, label)
    return Response(orjson.dumps(frame), media_type=JSON)
