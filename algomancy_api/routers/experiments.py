"""Experiments: parameter sweeps over scenarios (create, list, get, cancel, delete,
results frame, one-at-a-time sensitivity). See docs/experiments.md."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field, model_validator

from algomancy_api.audit import audited
from algomancy_api.deps import ConfigDep, ManagerDep
from algomancy_api.experiment_frame import frame_bytes
from algomancy_api.frames import (
    FRAME_OPENAPI_EXTRA,
    TabularFrameResponse,
    TabularFrameSourceResponse,
)
from algomancy_api.models import Body
from algomancy_api.routers import JSON, Limit, Offset, Responses
from algomancy_core.experiments import edits, results, service

router = APIRouter(prefix="/sessions/{session_id}", tags=["experiments"])

NOT_FOUND: Responses = {404: {"description": "No such session or experiment."}}


class ExperimentBase(Body):
    algo_name: str = Field(min_length=1)
    dataset_key: str | None = Field(
        None,
        min_length=1,
        description="The dataset (its latest version); default with a dataset axis: "
        "its first dataset.",
    )
    algo_params: dict[str, Any] | None = None
    data_params: dict[str, Any] | None = None


class ExperimentAxis(Body):
    name: str | None = Field(
        None, min_length=1, description="The parameter's name (not for a dataset axis)."
    )
    on: Literal["algorithm", "data", "dataset"] = Field(
        "algorithm",
        description="An algorithm parameter, a data parameter of the dataset, or the "
        "dataset itself (`values`: dataset keys or `{key, version}`; grid, random, lhs).",
    )
    values: list[Any] | None = Field(None, description="Explicit values (any design).")
    min: float | str | None = Field(
        None, description="Low end (a number, or an ISO date); default: the descriptor's."
    )
    max: float | str | None = Field(
        None, description="High end (a number, or an ISO date); default: the descriptor's."
    )
    scale: Literal["linear", "log"] | None = Field(
        None, description="`log`: a float range (above 0) spread evenly in the logarithm."
    )

    @model_validator(mode="after")
    def _named(self) -> ExperimentAxis:
        if self.on == "dataset":
            if self.name is not None or not self.values:
                raise ValueError(
                    "a dataset axis takes values (dataset keys or {key, version}) and no name"
                )
        elif self.name is None:
            raise ValueError(f"an axis on {self.on!r} needs the parameter's name")
        return self


class ExperimentDesign(Body):
    kind: Literal["grid", "random", "lhs", "oat", "morris", "sobol"]
    axes: list[ExperimentAxis] = Field(min_length=1)
    n: int | None = Field(
        None,
        ge=1,
        description="Points of a random or lhs design; trajectories of a morris design; "
        "base points (a power of 2) of a sobol design.",
    )
    seed: int = Field(0, ge=0, description="Seed of a random, lhs, morris or sobol design.")
    levels: int | None = Field(
        None, ge=2, description="Grid levels of a morris design (even; default 4)."
    )
    repetitions: int | None = Field(
        None, ge=1, description="Runs per point (grid, random, lhs), each with its own seed."
    )
    seed_parameter: str | None = Field(
        None,
        min_length=1,
        description="The integer algorithm parameter that takes a repetition's seed; "
        "default: the scenario's own seed.",
    )
    exclude: list[dict[str, Any]] | None = Field(
        None,
        description="Combinations left out (grid, random, lhs): `{axis key: value, ...}` "
        "each; a point with all of one's values is dropped.",
    )

    @model_validator(mode="after")
    def _dataset_axis_kind(self) -> ExperimentDesign:
        if self.kind in service.ANALYSED and any(a.on == "dataset" for a in self.axes):
            raise ValueError(service.DATASET_ANALYSED.format(kind=self.kind))
        return self


class CreateExperiment(Body):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    base: ExperimentBase
    design: ExperimentDesign
    max_scenarios: int | None = Field(
        None, ge=1, description="Cap on the points; at most `max_experiment_scenarios`."
    )


class ExperimentCounts(BaseModel):
    planned: int
    dropped: int
    created: int
    reused: int
    queued: int
    processing: int
    complete: int
    failed: int
    missing: int


class ExperimentOut(BaseModel):
    id: str
    name: str
    created_at: str
    status: Literal["running", "complete", "cancelled"]
    counts: ExperimentCounts
    base: dict[str, Any]
    design: dict[str, Any]
    axes: list[str]
    scenario_ids: list[str]


class TornadoRow(BaseModel):
    parameter: str
    base_value: Any
    low_value: Any
    high_value: Any
    base_kpi: float | None
    low_kpi: float | None
    high_kpi: float | None
    low_delta: float | None
    high_delta: float | None
    swing: float | None


class MorrisRow(BaseModel):
    parameter: str
    mu_star: float | None = Field(description="Mean absolute elementary effect (unit scale).")
    mu_star_conf: float | None = Field(description="Its 95 % bootstrap confidence interval.")
    mu: float | None
    sigma: float | None = Field(description="Spread of the effects: interaction or curvature.")


class SobolRow(BaseModel):
    parameter: str
    S1: float | None = Field(description="First-order index.")
    S1_conf: float | None = Field(description="Its 95 % confidence interval.")
    ST: float | None = Field(description="Total-order index.")
    ST_conf: float | None = Field(description="Its 95 % confidence interval.")


def _design(body: ExperimentDesign) -> dict[str, Any]:
    out = body.model_dump(exclude_none=True)
    out["axes"] = [axis.model_dump(exclude_none=True) for axis in body.axes]
    return out


@router.post(
    "/experiments",
    response_model=ExperimentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create an experiment",
    responses={
        400: {
            "description": "A bad axis or value, or more points than the cap (the "
            "message names the count); nothing is created."
        },
        404: {"description": "Unknown session, algorithm or dataset."},
        409: {"description": "The name is taken, or the session's scenario limit."},
    },
    dependencies=[audited("experiment.create")],
)
def create_experiment(
    body: CreateExperiment, manager: ManagerDep, config: ConfigDep
) -> dict[str, Any]:
    """Plan the design and create and queue one scenario per point (tag
    `{name}-{n}`), in one request."""
    cap = config.max_experiment_scenarios
    if body.max_scenarios is not None:
        cap = min(cap, body.max_scenarios)
    record = service.create_experiment(
        manager, body.name, body.base.model_dump(), _design(body.design), cap
    )
    return _out(manager, record)


def _out(manager: Any, record: Any) -> dict[str, Any]:
    out = service.summary(manager, record)
    out["created_at"] = out["created_at"].isoformat()
    return out


@router.get("/experiments", response_model=list[ExperimentOut], summary="List experiments")
def list_experiments(manager: ManagerDep) -> list[dict[str, Any]]:
    """The session's experiments, oldest first, with their counts."""
    return [_out(manager, r) for r in service.list_experiments(manager)]


@router.get(
    "/experiments/{experiment_id}",
    response_model=ExperimentOut,
    summary="Get an experiment",
    responses=NOT_FOUND,
)
def get_experiment(experiment_id: str, manager: ManagerDep) -> dict[str, Any]:
    """Status and counts (planned, created, reused, queued, processing, complete,
    failed, missing) read from its scenarios."""
    return _out(manager, service.get_experiment(manager, experiment_id))


@router.post(
    "/experiments/{experiment_id}/cancel",
    response_model=ExperimentOut,
    summary="Cancel an experiment",
    responses=NOT_FOUND,
    dependencies=[audited("experiment.cancel")],
)
def cancel_experiment(experiment_id: str, manager: ManagerDep) -> dict[str, Any]:
    """Queued points fail as cancelled, processing ones are asked to stop; complete
    ones keep their results."""
    record = service.cancel(manager, service.get_experiment(manager, experiment_id))
    return _out(manager, record)


@router.post(
    "/experiments/{experiment_id}/resume",
    response_model=ExperimentOut,
    summary="Resume an experiment",
    responses=NOT_FOUND,
    dependencies=[audited("experiment.resume")],
)
def resume_experiment(experiment_id: str, manager: ManagerDep) -> dict[str, Any]:
    """Queue again the points not complete: failed (cancelled too) and never-run ones
    run, a deleted point's scenario is made again; queued, processing and complete
    points are left alone, so nothing that completed runs again. Clears
    `cancelled`."""
    record, _ = edits.resume(manager, service.get_experiment(manager, experiment_id))
    return _out(manager, record)


class PatchExperiment(Body):
    drop_points: list[int] = Field(
        default_factory=list, description="Numbers of points not yet run to drop."
    )
    drop_values: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="`{axis key: [values]}`: the points not yet run with one of them are "
        "dropped (those that ran stay).",
    )


@router.patch(
    "/experiments/{experiment_id}",
    response_model=ExperimentOut,
    summary="Drop points not yet run",
    responses=NOT_FOUND
    | {
        400: {"description": "An unknown point number or axis."},
        409: {
            "description": "A listed point has run, or the design (oat, morris, sobol) "
            "needs every point."
        },
    },
    dependencies=[audited("experiment.update")],
)
def patch_experiment(
    experiment_id: str, body: PatchExperiment, manager: ManagerDep
) -> dict[str, Any]:
    """Drop points that have not run (their scenarios are deleted if they had not
    started); the points keep their numbers and tags."""
    record = edits.drop(
        manager,
        service.get_experiment(manager, experiment_id),
        body.drop_points,
        body.drop_values,
    )
    return _out(manager, record)


@router.delete(
    "/experiments/{experiment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an experiment",
    responses=NOT_FOUND,
    dependencies=[audited("experiment.delete")],
)
def delete_experiment(
    experiment_id: str,
    manager: ManagerDep,
    scenarios: Annotated[
        Literal["keep", "delete"],
        Query(description="`keep` (default): its scenarios stay in the session."),
    ] = "keep",
) -> Response:
    """Remove the experiment; with `scenarios=delete` its scenarios too."""
    record = service.get_experiment(manager, experiment_id)
    service.delete(manager, record, scenarios=scenarios == "delete")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/experiments/{experiment_id}/frame",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="An experiment's results as a tabular frame",
    responses=NOT_FOUND,
    openapi_extra=FRAME_OPENAPI_EXTRA,
    tags=["frames"],
)
def experiment_frame(
    experiment_id: str, manager: ManagerDep, offset: Offset = 0, limit: Limit = 1000
) -> Response:
    """One row per point: `point`, `scenario_id`, `status`, a column per varied
    parameter and per KPI (null until the point completes). Paged: only the page's
    points are read (its fields describe the page's values)."""
    page, kpis, rows = results.rows(manager, experiment_id, offset, limit)
    columns = ["point", "scenario_id", "status", *page.axes, *kpis]
    source = TabularFrameSourceResponse(
        kind="experiment",
        id=page.id,
        label=page.name,
        context={"offset": offset, "limit": limit, "total_rows": page.size},
    )
    return Response(frame_bytes(columns, kpis, rows, source), media_type=JSON)


@router.get(
    "/experiments/{experiment_id}/sensitivity",
    response_model=list[TornadoRow] | list[MorrisRow] | list[SobolRow],
    summary="Sensitivity of a KPI to the experiment's axes",
    responses=NOT_FOUND
    | {
        400: {"description": "A morris or sobol experiment on a server without SALib."},
        409: {
            "description": "The design is not one-at-a-time, morris or sobol, or a morris "
            "or sobol point has no value of the KPI yet."
        },
    },
)
def experiment_sensitivity(
    experiment_id: str,
    manager: ManagerDep,
    kpi: Annotated[str, Query(min_length=1, description="The KPI's name.")],
) -> list[dict[str, Any]]:
    """One-at-a-time: tornado rows, per parameter the KPI at its low and high ends
    against the base point, largest swing first (rows with a point not complete come
    last with nulls). Morris: mu*, mu, sigma per parameter, largest mu* first. Sobol: S1 and
    ST with confidence intervals, largest ST first."""
    return results.sensitivity(manager, service.get_experiment(manager, experiment_id), kpi)
