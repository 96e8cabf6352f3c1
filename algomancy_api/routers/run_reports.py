"""A scenario run's intermediate values (`ctx.report(value, step)`) as a frame."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Response

from algomancy_api.deps import ManagerDep
from algomancy_api.frames import (
    FRAME_OPENAPI_EXTRA,
    TabularFrameResponse,
    TabularFrameSourceResponse,
    frame_json_bytes,
)
from algomancy_api.routers import JSON, Limit, Offset, Responses
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

router = APIRouter(prefix="/sessions/{session_id}", tags=["scenarios"])

NOT_FOUND: Responses = {404: {"description": "No such session or scenario."}}


@router.get(
    "/scenarios/{scenario_id}/reports",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="A run's intermediate values as a tabular frame",
    responses=NOT_FOUND,
    openapi_extra=FRAME_OPENAPI_EXTRA,
    tags=["frames"],
)
def scenario_reports(
    scenario_id: str, manager: ManagerDep, offset: Offset = 0, limit: Limit = 1000
) -> Response:
    """The values the algorithm reported while running (`ctx.report(value, step)`),
    one row per report in the order reported: `step` (integer) and `value`
    (number). Those of the latest run, also while it runs; none before a run or
    after a reset. At most 10,000 per run: past that the older ones are thinned
    (every other one dropped), the latest always kept."""
    record = manager.get_scenario(scenario_id)
    reports = manager.reports(scenario_id)
    df = pd.DataFrame(
        {
            "step": pd.Series([step for step, _ in reports], dtype="int64"),
            "value": pd.Series([value for _, value in reports], dtype="float64"),
        }
    )
    source = TabularFrameSourceResponse(
        kind="scenario-reports",
        id=scenario_id,
        label=f"{record.tag} / reports",
        context={"offset": offset, "limit": limit, "total_rows": len(df)},
    )
    return Response(
        frame_json_bytes(df, source=source, offset=offset, limit=limit), media_type=JSON
    )
