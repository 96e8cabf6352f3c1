"""The KPI comparison of a session's scenarios, as a tabular frame."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Response

from algomancy_api.deps import ManagerDep
from algomancy_api.frames import (
    FRAME_OPENAPI_EXTRA,
    TabularFrameResponse,
    TabularFrameSourceResponse,
    frame_json_bytes,
)
from algomancy_api.routers import JSON

router = APIRouter(prefix="/sessions/{session_id}", tags=["frames"])


@router.get(
    "/kpis/frame",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="Compare the scenarios' KPIs (tabular frame)",
    openapi_extra=FRAME_OPENAPI_EXTRA,
)
def kpi_frame(manager: ManagerDep) -> Response:
    """One row per scenario: tag, algorithm, dataset, status, then one column per
    KPI (null until the scenario is complete), as `core.tabular_frame@v1`."""
    kpis = manager.kpi_templates
    rows = []
    for record in manager.list_scenarios():
        row: dict[str, object] = {
            "scenario": record.tag,
            "algorithm": record.algorithm,
            "dataset": record.dataset_key,
            "status": record.status.value,
        }
        for name in kpis:
            row[name] = record.kpis.get(name)
        rows.append(row)
    columns = ["scenario", "algorithm", "dataset", "status", *kpis]
    frame = pd.DataFrame(rows, columns=columns)
    for name in kpis:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    source = TabularFrameSourceResponse(
        kind="kpi-comparison",
        id=manager.session_id,
        label=f"KPIs of session {manager.display_name}",
        context={
            "units": {name: kpi.unit for name, kpi in kpis.items()},
            "better_when": {name: str(kpi.direction) for name, kpi in kpis.items()},
            "thresholds": {name: kpi.threshold for name, kpi in kpis.items()},
        },
    )
    return Response(frame_json_bytes(frame, source=source), media_type=JSON)
