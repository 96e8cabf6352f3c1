"""The KPI comparison of a session's scenarios, as a tabular frame."""

from __future__ import annotations

from typing import Any

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
from algomancy_core.kpi import DETAILS_KEY

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
    KPI (null until the scenario is complete; a binary KPI's 1 pass, 0 fail, and a
    `{name} details` column after the KPIs), as `core.tabular_frame@v1`. The source's
    context gives units, directions, thresholds, `quantities` and the `binary` KPIs."""
    kpis = manager.kpi_templates
    binary = [name for name, kpi in kpis.items() if kpi.kind == "binary"]
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
        details: Any = record.kpis.get(DETAILS_KEY)
        for name in binary:
            row[f"{name} details"] = details.get(name) if isinstance(details, dict) else None
        rows.append(row)
    columns = [
        "scenario",
        "algorithm",
        "dataset",
        "status",
        *kpis,
        *(f"{n} details" for n in binary),
    ]
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
            "quantities": {n: kpi.quantity for n, kpi in kpis.items() if kpi.quantity},
            "binary": binary,
        },
    )
    return Response(frame_json_bytes(frame, source=source), media_type=JSON)
