"""The study methods of `AsyncAlgomancyClient` (docs/studies.md): create, follow,
read the trials and the best trial, stop, delete. Mixed into the client (after its
own bases, so its `_send` is the one called). `sync_studies` is generated
from this file (`python scripts/unasync_client.py`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from algomancy_api.client.aio_waits import poll_until_ended
from algomancy_api.client.models import Frame
from algomancy_api.client.routes import Call, Routes
from algomancy_api.client.studies import ENDED, Study, StudyRoutes, study_body

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")


class AsyncStudiesMixin:
    """`AsyncAlgomancyClient`'s study methods."""

    routes: Routes

    if TYPE_CHECKING:
        # The client's own, found first in the MRO; declared here for the type checker.
        async def _send(self, call: Call[T]) -> T: ...

    async def create_study(
        self,
        name: str,
        algo_name: str,
        dataset_key: str,
        objectives: Iterable[str | Mapping[str, Any]],
        *,
        space: Iterable[Mapping[str, Any]] | None = None,
        constraints: Iterable[Mapping[str, Any]] | None = None,
        sampler: str = "tpe",
        seed: int = 0,
        n_trials: int | None = None,
        timeout_s: float | None = None,
        parallel: int = 1,
        pruner: str = "none",
        warm_start: Mapping[str, Any] | None = None,
        algo_params: Mapping[str, Any] | None = None,
        data_params: Mapping[str, Any] | None = None,
    ) -> Study:
        """Start a study: `objectives` are KPI names (or `{"kpi", "direction"}`),
        `space` entries `{"name", "on"?, "min"?, "max"?, "log"?, "step"?, "choices"?}`
        (default: every parameter with bounds or choices), `constraints`
        `{"kpi", "max"?, "min"?}`; give `n_trials` and/or `timeout_s`. `pruner`
        (`median`, `successive_halving`) stops trials whose intermediate values
        are not promising (one objective only)."""
        body = study_body(
            name,
            algo_name,
            dataset_key,
            objectives,
            space=None if space is None else [dict(d) for d in space],
            constraints=None if constraints is None else [dict(c) for c in constraints],
            sampler=sampler,
            seed=seed,
            n_trials=n_trials,
            timeout_s=timeout_s,
            parallel=parallel,
            pruner=pruner,
            warm_start=None if warm_start is None else dict(warm_start),
            algo_params=None if algo_params is None else dict(algo_params),
            data_params=None if data_params is None else dict(data_params),
        )
        return await self._send(StudyRoutes(self.routes).create(body))

    async def studies(self) -> list[Study]:
        return await self._send(StudyRoutes(self.routes).list())

    async def get_study(self, study_id: str) -> Study:
        return await self._send(StudyRoutes(self.routes).get(study_id))

    async def stop_study(self, study_id: str) -> Study:
        """No more trials; those in flight are cancelled."""
        return await self._send(StudyRoutes(self.routes).stop(study_id))

    async def delete_study(self, study_id: str, *, scenarios: str = "keep") -> None:
        """`scenarios="delete"` deletes the scenarios it created too."""
        await self._send(StudyRoutes(self.routes).delete(study_id, scenarios))

    async def wait_study(
        self, study_id: str, *, timeout: float | None = None, interval: float = 0.5
    ) -> Study:
        """Poll the study every `interval` seconds until it is complete or stopped;
        TimeoutError after `timeout` seconds."""
        return await poll_until_ended(
            lambda: self.get_study(study_id), ENDED, f"study {study_id}", timeout, interval
        )

    async def study_trials_frame(
        self, study_id: str, *, offset: int = 0, limit: int = 1000
    ) -> Frame:
        return await self._send(StudyRoutes(self.routes).frame(study_id, "trials", offset, limit))

    async def study_trials_dataframe(self, study_id: str) -> pd.DataFrame:
        """One row per trial (indexed by `number`): state, source, scenario id, a
        column per parameter and per objective and constraint KPI."""
        frame = await self.study_trials_frame(study_id, limit=100_000)
        return frame.to_pandas().set_index("number")

    async def study_pareto_dataframe(self, study_id: str) -> pd.DataFrame:
        """The Pareto set's rows, in the trials' columns."""
        call = StudyRoutes(self.routes).frame(study_id, "pareto", 0, 100_000)
        frame = await self._send(call)
        return frame.to_pandas().set_index("number")

    async def best_trial(self, study_id: str) -> dict[str, Any] | None:
        """The best feasible trial of a single-objective study (None while there is
        none): `{number, scenario_id, params, values, ...}`."""
        study = await self.get_study(study_id)
        return study.best
