"""Optimisation studies: Optuna chooses parameter points, each trial a scenario
(create, list, get, trials and Pareto frames, stop, delete). See docs/studies.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field, field_validator, model_validator

from algomancy_api.audit import audited
from algomancy_api.deps import ConfigDep, ManagerDep
from algomancy_api.frames import (
    FRAME_OPENAPI_EXTRA,
    TabularFrameResponse,
    TabularFrameSourceResponse,
    frame_json_bytes,
)
from algomancy_api.models import Body
from algomancy_api.routers import JSON, Limit, Offset, Responses
from algomancy_api.routers.experiments import ExperimentBase
from algomancy_core.studies import search, service
from algomancy_core.studies.book import StudyRecord, TrialRecord
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

router = APIRouter(prefix="/sessions/{session_id}", tags=["studies"])

NOT_FOUND: Responses = {404: {"description": "No such session or study."}}


class StudyDimension(Body):
    name: str = Field(min_length=1, description="The parameter's name.")
    on: Literal["algorithm", "data"] = Field(
        "algorithm", description="An algorithm parameter or a data parameter of the dataset."
    )
    min: float | None = Field(None, description="Low end; default: the descriptor's.")
    max: float | None = Field(None, description="High end; default: the descriptor's.")
    log: bool = Field(False, description="Search the range on a log scale (min above 0).")
    step: float | None = Field(None, gt=0, description="Only multiples of step from min.")
    choices: list[Any] | None = Field(None, description="A categorical dimension's values.")


class StudyObjective(Body):
    kpi: str = Field(min_length=1)
    direction: Literal["minimize", "maximize"] | None = Field(
        None, description="Default: from the KPI's `better_when`."
    )


class StudyConstraint(Body):
    kpi: str = Field(min_length=1)
    max: float | None = Field(None, description="Feasible when the KPI is at most this.")
    min: float | None = Field(None, description="Feasible when the KPI is at least this.")


class WarmStart(Body):
    scenarios: Literal["session"] | None = Field(
        None, description="`session`: the session's complete scenarios of the algorithm."
    )
    experiment: str | None = Field(None, description="An experiment's complete scenarios.")
    points: list[dict[str, Any]] | None = Field(
        None, description="Points (`{parameter: value}`) run first, counted in the budget."
    )


class CreateStudy(Body):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    base: ExperimentBase
    space: list[StudyDimension] | None = Field(
        None,
        description="Default: every algorithm parameter with bounds or choices.",
    )
    objectives: list[StudyObjective] = Field(min_length=1)
    constraints: list[StudyConstraint] = Field(default_factory=list)
    sampler: Literal["tpe", "nsga2", "random", "qmc", "gp"] = "tpe"
    seed: int = Field(0, ge=0)
    n_trials: int | None = Field(None, ge=1, le=100_000)
    timeout_s: float | None = Field(None, gt=0)
    parallel: int = Field(1, ge=1, le=64, description="Trials in flight at once.")
    pruner: Literal["none", "median", "successive_halving"] = Field(
        "none",
        description="Stop trials whose intermediate values (`ctx.report`) are not "
        "promising: Optuna's MedianPruner or SuccessiveHalvingPruner. One objective only.",
    )
    warm_start: WarmStart | None = None

    @field_validator("sampler")
    @classmethod
    def _runnable(cls, sampler: str) -> str:
        """`gp` needs PyTorch: refused as a malformed body (422) without it."""
        search.check_sampler(sampler)
        return sampler

    @model_validator(mode="after")
    def _prunable(self) -> CreateStudy:
        """A pruner needs one objective: refused as a malformed body (422)."""
        search.check_pruner(self.pruner, len(self.objectives))
        return self


class StudyCounts(BaseModel):
    total: int
    running: int
    complete: int
    failed: int
    pruned: int
    warm: int
    budgeted: int


class TrialOut(BaseModel):
    number: int
    state: Literal["running", "complete", "failed", "pruned"]
    source: Literal["asked", "point", "warm"]
    scenario_id: str | None
    params: dict[str, Any]
    values: list[float] | None
    constraints: list[float] | None
    feasible: bool
    note: str | None


class StudyOut(BaseModel):
    id: str
    name: str
    created_at: str
    status: Literal["running", "stopping", "complete", "stopped"]
    ended_by: Literal["trials", "time", "stop"] | None
    base: dict[str, Any]
    space: list[dict[str, Any]]
    objectives: list[dict[str, Any]]
    constraints: list[dict[str, Any]]
    sampler: str
    seed: int
    n_trials: int | None
    timeout_s: float | None
    parallel: int
    pruner: str
    counts: StudyCounts
    best: TrialOut | None
    pareto: list[TrialOut] | None


def _out(manager: Any, record: StudyRecord) -> dict[str, Any]:
    out = service.summary(manager, record)
    out["created_at"] = out["created_at"].isoformat()
    return out


@router.post(
    "/studies",
    response_model=StudyOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a study",
    responses={
        400: {
            "description": "An unknown parameter or KPI, a bad range, an empty space, no "
            "budget or more trials than the cap, a warm-start point outside the space; "
            "nothing is created."
        },
        404: {"description": "Unknown session, algorithm, dataset or warm-start experiment."},
        409: {"description": "The name, or one of its trials' scenario tags, is taken."},
    },
    dependencies=[audited("study.create")],
)
def create_study(body: CreateStudy, manager: ManagerDep, config: ConfigDep) -> dict[str, Any]:
    """Store the study; a driver (one per study, in any server process) asks Optuna
    for points and runs each as a scenario tagged `{name}-{number}`."""
    request = body.model_dump(exclude_none=True)
    request["base"] = body.base.model_dump()
    if body.space is not None:
        request["space"] = [d.model_dump(exclude_none=True) for d in body.space]
    request["objectives"] = [o.model_dump(exclude_none=True) for o in body.objectives]
    request["constraints"] = [c.model_dump(exclude_none=True) for c in body.constraints]
    record = service.create_study(manager, request, config.max_experiment_scenarios)
    return _out(manager, record)


@router.get("/studies", response_model=list[StudyOut], summary="List studies")
def list_studies(manager: ManagerDep) -> list[dict[str, Any]]:
    """The session's studies, oldest first."""
    return [_out(manager, r) for r in service.list_studies(manager)]


@router.get(
    "/studies/{study_id}", response_model=StudyOut, summary="Get a study", responses=NOT_FOUND
)
def get_study(study_id: str, manager: ManagerDep) -> dict[str, Any]:
    """Status, trial counts by state, and the best feasible trial (one objective) or
    the Pareto set of feasible trials (several)."""
    return _out(manager, service.get_study(manager, study_id))


@router.post(
    "/studies/{study_id}/stop",
    response_model=StudyOut,
    summary="Stop a study",
    responses=NOT_FOUND,
    dependencies=[audited("study.stop")],
)
def stop_study(study_id: str, manager: ManagerDep) -> dict[str, Any]:
    """No more trials are asked; those in flight are cancelled (failed trials), then
    the study is `stopped` (`stopping` until then). A finished study is unchanged."""
    return _out(manager, service.stop(manager, service.get_study(manager, study_id)))


@router.delete(
    "/studies/{study_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a study",
    responses=NOT_FOUND,
    dependencies=[audited("study.delete")],
)
def delete_study(
    study_id: str,
    manager: ManagerDep,
    scenarios: Annotated[
        Literal["keep", "delete"],
        Query(description="`keep` (default): its trials' scenarios stay in the session."),
    ] = "keep",
) -> Response:
    """Remove the study and its trials (queued or processing trial runs are
    cancelled); with `scenarios=delete` the scenarios it created too."""
    record = service.get_study(manager, study_id)
    service.delete(manager, record, scenarios=scenarios == "delete")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _frame(
    manager: Any,
    record: StudyRecord,
    trials: list[TrialRecord],
    kind: str,
    offset: int,
    limit: int,
) -> Response:
    keys, kpis = service.frame_columns(record)
    columns = ["number", "state", "source", "scenario_id", *keys, *kpis]
    df = pd.DataFrame(service.rows(manager, record, trials), columns=columns)
    for kpi in kpis:
        df[kpi] = pd.to_numeric(df[kpi], errors="coerce").astype("float64")
    source = TabularFrameSourceResponse(
        kind=kind,
        id=record.id,
        label=record.name,
        context={"offset": offset, "limit": limit, "total_rows": len(df)},
    )
    return Response(
        frame_json_bytes(df, source=source, offset=offset, limit=limit), media_type=JSON
    )


@router.get(
    "/studies/{study_id}/trials",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="A study's trials as a tabular frame",
    responses=NOT_FOUND,
    openapi_extra=FRAME_OPENAPI_EXTRA,
    tags=["frames"],
)
def study_trials(
    study_id: str, manager: ManagerDep, offset: Offset = 0, limit: Limit = 1000
) -> Response:
    """One row per trial by number: `number`, `state`, `source`, `scenario_id`, a
    column per parameter of the space and per objective and constraint KPI."""
    record = service.get_study(manager, study_id)
    trials = manager._store.studies.trials(record.id)
    return _frame(manager, record, trials, "study", offset, limit)


@router.get(
    "/studies/{study_id}/pareto",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="A study's Pareto set as a tabular frame",
    responses=NOT_FOUND,
    openapi_extra=FRAME_OPENAPI_EXTRA,
    tags=["frames"],
)
def study_pareto(
    study_id: str, manager: ManagerDep, offset: Offset = 0, limit: Limit = 1000
) -> Response:
    """The feasible complete trials no other feasible complete trial dominates (for
    one objective: the best ones), in the trials frame's columns."""
    record = service.get_study(manager, study_id)
    trials = service.pareto(record, manager._store.studies.trials(record.id))
    return _frame(manager, record, trials, "study_pareto", offset, limit)
