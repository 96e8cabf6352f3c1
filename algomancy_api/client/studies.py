"""The study routes for the clients (docs/studies.md) as `Call`s, and the `Study`
model. The clients' methods for them are in `aio_studies` (and `sync_studies`,
generated from it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from algomancy_api.client.models import Frame, Model
from algomancy_api.client.routes import Call, Routes, _nothing, _seg

#: The states a study ends in.
ENDED = ("complete", "stopped")


class Study(Model):
    """An optimisation study: `status` is `running`, `stopping`, `complete` or
    `stopped`; `counts` has `total`, `running`, `complete`, `failed`, `pruned`,
    `warm` and `budgeted`; `best` (one objective) or `pareto` (several) holds trials as
    `{number, state, source, scenario_id, params, values, constraints, feasible}`."""

    id: str
    name: str
    status: str
    ended_by: str | None = None
    counts: dict[str, int]
    base: dict[str, Any]
    space: list[dict[str, Any]]
    objectives: list[dict[str, Any]]
    constraints: list[dict[str, Any]]
    sampler: str
    seed: int
    n_trials: int | None = None
    timeout_s: float | None = None
    parallel: int
    pruner: str = "none"
    best: dict[str, Any] | None = None
    pareto: list[dict[str, Any]] | None = None
    created_at: str


def study_body(
    name: str,
    algo_name: str,
    dataset_key: str,
    objectives: Iterable[str | Mapping[str, Any]],
    **fields: Any,
) -> dict[str, Any]:
    """The body of `POST …/studies`; `fields` left None are left out."""
    body: dict[str, Any] = {
        "name": name,
        "base": {
            "algo_name": algo_name,
            "dataset_key": dataset_key,
            "algo_params": fields.pop("algo_params", None),
            "data_params": fields.pop("data_params", None),
        },
        "objectives": [{"kpi": o} if isinstance(o, str) else dict(o) for o in objectives],
    }
    body.update({k: v for k, v in fields.items() if v is not None})
    return body


class StudyRoutes:
    """The study routes of one session as `Call`s."""

    def __init__(self, routes: Routes) -> None:
        self.routes = routes

    def _path(self, study_id: str, tail: str = "") -> str:
        return self.routes.scoped(f"/studies/{_seg(study_id)}{tail}")

    def create(self, body: Mapping[str, Any]) -> Call[Study]:
        return Call("POST", self.routes.scoped("/studies"), Study.model_validate, {"json": body})

    def get(self, study_id: str) -> Call[Study]:
        return Call("GET", self._path(study_id), Study.model_validate)

    def list(self) -> Call[list[Study]]:
        return Call(
            "GET", self.routes.scoped("/studies"), lambda b: [Study.model_validate(s) for s in b]
        )

    def stop(self, study_id: str) -> Call[Study]:
        return Call("POST", self._path(study_id, "/stop"), Study.model_validate)

    def delete(self, study_id: str, scenarios: str) -> Call[None]:
        return Call("DELETE", self._path(study_id), _nothing, {"params": {"scenarios": scenarios}})

    def frame(self, study_id: str, which: str, offset: int, limit: int) -> Call[Frame]:
        params = {"params": {"offset": offset, "limit": limit}}
        return Call("GET", self._path(study_id, f"/{which}"), Frame.model_validate, params)
