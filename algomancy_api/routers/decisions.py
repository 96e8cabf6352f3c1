"""Deciding between scenarios: the pinned baseline, acceptance rules, reports."""

from __future__ import annotations

from fastapi import APIRouter, Response

from algomancy_api.acceptance import acceptance
from algomancy_api.decision_models import AcceptanceIn, BaselineIn, BaselineOut
from algomancy_api.deps import ManagerDep
from algomancy_api.frames import (
    FRAME_OPENAPI_EXTRA,
    TabularFrameResponse,
    TabularFrameSourceResponse,
    frame_json_bytes,
)
from algomancy_api.routers import JSON, Responses

router = APIRouter(prefix="/sessions/{session_id}", tags=["decisions"])

NOT_FOUND: Responses = {404: {"description": "No such session or scenario."}}


def _pinned(manager: ManagerDep) -> BaselineOut:
    pinned = manager.baseline_id()
    record = manager.get_by_id(pinned) if pinned is not None else None
    if record is None:
        return BaselineOut(scenario_id=None, tag=None)
    return BaselineOut(scenario_id=record.id, tag=record.tag)


@router.get("/baseline", response_model=BaselineOut, summary="The pinned baseline")
def get_baseline(manager: ManagerDep) -> BaselineOut:
    """The session's pinned baseline scenario (`scenario_id` null when none is pinned)."""
    return _pinned(manager)


@router.put(
    "/baseline", response_model=BaselineOut, summary="Pin the baseline", responses=NOT_FOUND
)
def put_baseline(body: BaselineIn, manager: ManagerDep) -> BaselineOut:
    """Pin a scenario of the session as its baseline (replacing the pinned one): the
    default of `baseline=pinned` in comparisons and reports. While pinned it cannot
    be deleted (409)."""
    record = manager.pin_baseline(body.scenario_id)
    return BaselineOut(scenario_id=record.id, tag=record.tag)


@router.delete("/baseline", response_model=BaselineOut, summary="Unpin the baseline")
def delete_baseline(manager: ManagerDep) -> BaselineOut:
    """Unpin the baseline (nothing to do when none is pinned); answers `scenario_id` null."""
    manager.unpin_baseline()
    return BaselineOut(scenario_id=None, tag=None)


@router.post(
    "/acceptance",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="Check candidates against acceptance rules (tabular frame)",
    openapi_extra=FRAME_OPENAPI_EXTRA,
    responses={
        400: {"description": "A rule names an unknown KPI."},
        404: {"description": "No such session, or a baseline or candidate not found."},
        409: {"description": "`baseline` is `pinned` and the session has no pinned baseline."},
    },
)
def check_acceptance(body: AcceptanceIn, manager: ManagerDep) -> Response:
    """One row per candidate (`candidate` tag, `id`), a column per rule holding
    `pass`, `fail` or `missing` (the candidate or the baseline has no value: not
    complete, or no value for the KPI), and `overall`: `pass` when every rule
    passes, `fail` when one fails, else `missing`."""
    frame, context = acceptance(manager, body)
    source = TabularFrameSourceResponse(
        kind="acceptance",
        id=manager.session_id,
        label=f"Acceptance in session {manager.display_name}",
        context=context,
    )
    return Response(frame_json_bytes(frame, source=source), media_type=JSON)
