"""`AsyncAlgomancyClient`: the same methods as `AlgomancyClient`, awaited (httpx).

The source of both clients: `sync.py` is generated from this file by
`python scripts/unasync_client.py` (unasync), never edited by hand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import httpx
import orjson
from httpx_sse import EventSource

from algomancy_api.client._base import (
    AlgomancyError,
    headers,
    raise_for,
    read_files,
    scenario_event,
    settings,
)
from algomancy_api.client.aio_decisions import AsyncDecisionsMixin
from algomancy_api.client.aio_studies import AsyncStudiesMixin
from algomancy_api.client.aio_waits import poll_until_ended
from algomancy_api.client.deadline import Deadline
from algomancy_api.client.models import (
    EXPERIMENT_ENDED,
    TERMINAL,
    DatasetVersion,
    EtlResult,
    Experiment,
    Frame,
    Health,
    KpiDescriptor,
    Me,
    ParameterDescriptor,
    Scenario,
    ScenarioEvent,
    ScenarioStatus,
    Session,
    SessionEvent,
    SessionList,
    TableInfo,
)
from algomancy_api.client.progress import ProgressBar
from algomancy_api.client.routes import Call, Routes, experiment_body
from algomancy_api.client.stream import RECONNECT_DELAY, SessionStream

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")


class AsyncAlgomancyClient(AsyncDecisionsMixin, AsyncStudiesMixin):
    """Drive a server from asyncio::

        async with AsyncAlgomancyClient("http://127.0.0.1:8051") as client:
            scenario = await client.create_scenario("abc", "Master data", "ABC slotting")
            await client.run(scenario.id)
            done = await client.wait(scenario.id)

    `base_url`, `api_key` and `session` (UUID or display name) default to the
    environment variables ALGOMANCY_URL, ALGOMANCY_API_KEY and ALGOMANCY_SESSION,
    then to `http://127.0.0.1:8051`, no key and `main`. Pass `http` to reuse an
    `httpx.AsyncClient` (e.g. a test client). Every error answer raises `AlgomancyError`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        session: str | None = None,
        api_key: str | None = None,
        prefix: str = "/api/v1",
        timeout: float = 60.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url, self.api_key, session = settings(base_url, api_key, session)
        self.http = http or httpx.AsyncClient(
            base_url=self.base_url, headers=headers(self.api_key), timeout=timeout
        )
        self.routes = Routes(prefix, session)

    @property
    def session(self) -> str:
        """The session every scoped call uses; assign to switch."""
        return self.routes.session

    @session.setter
    def session(self, value: str) -> None:
        self.routes.session = value

    async def close(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncAlgomancyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _send(self, call: Call[T]) -> T:
        response = await self.http.request(call.method, call.path, **call.kwargs)
        raise_for(response)
        if call.raw:
            return call.parse(response.content)
        if response.status_code == 204 or not response.content:
            return call.parse(None)
        if call.from_json is not None:
            return call.from_json(response.content)
        # orjson rather than the stdlib's json (`response.json()`): ~1.4x faster on a
        # 1,000-scenario list.
        return call.parse(orjson.loads(response.content))

    # -- platform ----------------------------------------------------------------
    async def health(self) -> Health:
        return await self._send(self.routes.health())

    async def me(self) -> Me:
        return await self._send(self.routes.me())

    # -- sessions ----------------------------------------------------------------
    async def sessions(self) -> SessionList:
        return await self._send(self.routes.sessions())

    async def create_session(self, display_name: str) -> Session:
        return await self._send(self.routes.create_session(display_name))

    async def copy_session(self, session: str, new_display_name: str) -> Session:
        return await self._send(self.routes.copy_session(session, new_display_name))

    async def rename_session(self, session: str, display_name: str) -> Session:
        return await self._send(self.routes.rename_session(session, display_name))

    async def delete_session(self, session: str) -> SessionList:
        return await self._send(self.routes.delete_session(session))

    # -- algorithms and KPIs -----------------------------------------------------
    async def algorithms(self) -> list[str]:
        return await self._send(self.routes.algorithms())

    async def parameters(self, algorithm: str) -> list[ParameterDescriptor]:
        return await self._send(self.routes.parameters(algorithm))

    async def kpis(self) -> list[str]:
        return await self._send(self.routes.kpis())

    async def describe_kpis(self) -> list[KpiDescriptor]:
        return await self._send(self.routes.describe_kpis())

    async def kpi_frame(self) -> Frame:
        return await self._send(self.routes.kpi_frame())

    async def kpis_dataframe(self) -> pd.DataFrame:
        """One row per scenario (indexed by tag): algorithm, dataset, status, then a
        column per KPI (NaN until the scenario is complete)."""
        frame = await self.kpi_frame()
        return frame.to_pandas().set_index("scenario")

    # -- experiments ---------------------------------------------------------------
    async def create_experiment(
        self,
        name: str,
        algo_name: str,
        dataset_key: str,
        kind: str,
        axes: Iterable[Mapping[str, Any]],
        *,
        algo_params: Mapping[str, Any] | None = None,
        data_params: Mapping[str, Any] | None = None,
        n: int | None = None,
        seed: int = 0,
        max_scenarios: int | None = None,
        design: Mapping[str, Any] | None = None,
    ) -> Experiment:
        """Plan a design (`grid`, `random`, `lhs`, `oat`, `morris`, `sobol`) over
        `axes` (each `{"name", "on"?, "values"?, "min"?, "max"?, ...}`) and queue its
        scenarios; `design` adds further design fields (`levels`, `exclude`,
        `repetitions`, ...: docs/experiments.md)."""
        body = experiment_body(
            name,
            algo_name,
            dataset_key,
            kind,
            axes,
            algo_params=algo_params,
            data_params=data_params,
            n=n,
            seed=seed,
            max_scenarios=max_scenarios,
            design=design,
        )
        return await self._send(self.routes.create_experiment(body))

    async def experiments(self) -> list[Experiment]:
        return await self._send(self.routes.experiments())

    async def experiment(self, experiment_id: str) -> Experiment:
        return await self._send(self.routes.experiment(experiment_id))

    async def wait_experiment(
        self, experiment_id: str, *, timeout: float | None = None, interval: float = 0.5
    ) -> Experiment:
        """Poll the experiment every `interval` seconds until it is complete or
        cancelled; TimeoutError after `timeout` seconds."""
        return await poll_until_ended(
            lambda: self.experiment(experiment_id),
            EXPERIMENT_ENDED,
            f"experiment {experiment_id}",
            timeout,
            interval,
        )

    async def cancel_experiment(self, experiment_id: str) -> Experiment:
        return await self._send(self.routes.cancel_experiment(experiment_id))

    async def resume_experiment(self, experiment_id: str) -> Experiment:
        """Queue again its points not complete (failed, cancelled, never run, deleted);
        nothing complete runs again."""
        return await self._send(self.routes.resume_experiment(experiment_id))

    async def drop_experiment_points(
        self,
        experiment_id: str,
        *,
        points: Iterable[int] = (),
        values: Mapping[str, Iterable[Any]] | None = None,
    ) -> Experiment:
        """Drop points not yet run: by number, or those with one of `values[axis]`."""
        body = {
            "drop_points": list(points),
            "drop_values": {k: list(v) for k, v in (values or {}).items()},
        }
        return await self._send(self.routes.patch_experiment(experiment_id, body))

    async def delete_experiment(self, experiment_id: str, *, scenarios: str = "keep") -> None:
        """`scenarios="delete"` deletes its scenarios too."""
        await self._send(self.routes.delete_experiment(experiment_id, scenarios))

    async def experiment_frame(
        self, experiment_id: str, *, offset: int = 0, limit: int = 1000
    ) -> Frame:
        return await self._send(self.routes.experiment_frame(experiment_id, offset, limit))

    async def experiment_dataframe(self, experiment_id: str) -> pd.DataFrame:
        """One row per point (indexed by `point`): scenario id, status, a column per
        varied parameter and per KPI (NaN until the point completes)."""
        frame = await self.experiment_frame(experiment_id, limit=100_000)
        return frame.to_pandas().set_index("point")

    async def sensitivity(self, experiment_id: str, kpi: str) -> list[dict[str, Any]]:
        """Tornado rows of a one-at-a-time experiment (largest swing first), Morris'
        mu*/sigma or Sobol's S1/ST rows of a morris or sobol one."""
        return await self._send(self.routes.sensitivity(experiment_id, kpi))

    # -- datasets ----------------------------------------------------------------
    async def datasets(self) -> list[str]:
        return await self._send(self.routes.datasets())

    async def dataset(self, key: str, version: int | None = None) -> dict[str, Any]:
        """The dataset as its JSON document: its latest version, or `version`."""
        return await self._send(self.routes.dataset(key, version))

    async def dataset_versions(self, key: str) -> list[DatasetVersion]:
        """The dataset's versions, newest first, with the scenarios pinned to each."""
        return await self._send(self.routes.dataset_versions(key))

    async def add_dataset(
        self, document: Mapping[str, Any], *, new_version: bool = False
    ) -> list[str]:
        """Add a dataset from its JSON document; the dataset keys after. A key that
        exists is a 409 unless `new_version`: then the document is its new version."""
        return await self._send(self.routes.add_dataset(document, new_version))

    async def derive_dataset(self, key: str, new_key: str) -> list[str]:
        return await self._send(self.routes.derive_dataset(key, new_key))

    async def save_as_master(self, key: str, new_key: str) -> list[str]:
        """Store a copy of `key` (a derived dataset, typically) as master data."""
        return await self._send(self.routes.save_as_master(key, new_key))

    async def result_views(self, algorithm: str) -> list[dict[str, Any]]:
        """The result views `algorithm` declares."""
        return await self._send(self.routes.result_views(algorithm))

    async def result_view(self, scenario_id: str, view: str) -> dict[str, Any]:
        """One result view of a complete scenario: `view`, `points`, `chart`..."""
        return await self._send(self.routes.result_view(scenario_id, view))

    async def delete_dataset(self, key: str) -> None:
        await self._send(self.routes.delete_dataset(key))

    async def data_parameters(self, key: str) -> list[ParameterDescriptor]:
        """The data parameters dataset `key` declares (empty when none)."""
        return await self._send(self.routes.data_parameters(key))

    async def dataset_tables(self, key: str) -> list[TableInfo]:
        return await self._send(self.routes.dataset_tables(key))

    async def dataset_frame(
        self, key: str, table: str, *, offset: int = 0, limit: int = 1000
    ) -> Frame:
        return await self._send(self.routes.dataset_frame(key, table, offset, limit))

    async def download_table(self, key: str, table: str, format: str = "csv") -> bytes:
        return await self._send(self.routes.download_table(key, table, format))

    async def upload(self, dataset_name: str, *paths: str | Path) -> EtlResult:
        """Run the ETL over files (their names are the logical names). A failed ETL
        is not an exception: look at `success` and `messages`."""
        return await self._send(self.routes.upload(dataset_name, read_files(paths)))

    # -- scenarios ---------------------------------------------------------------
    async def scenarios(
        self, fingerprint: str | None = None, *, limit: int | None = None, offset: int = 0
    ) -> list[Scenario]:
        """The session's scenarios, oldest first; with `fingerprint`, the runs of
        the same thing; with `limit`/`offset`, one page of them (`limit` at most,
        after skipping `offset`)."""
        return await self._send(self.routes.scenarios(fingerprint, limit, offset))

    async def create_scenario(
        self,
        tag: str,
        dataset_key: str,
        algo_name: str,
        algo_params: Mapping[str, Any] | None = None,
        data_params: Mapping[str, Any] | None = None,
        *,
        dataset_version: int | None = None,
        seed: int | None = None,
    ) -> Scenario:
        """A new scenario; `data_params` are the dataset's declared parameters. It
        is pinned to `dataset_version` (default: the latest version)."""
        return await self._send(
            self.routes.create_scenario(
                tag, dataset_key, algo_name, algo_params, data_params, dataset_version, seed
            )
        )

    async def scenario(self, scenario_id: str) -> Scenario:
        return await self._send(self.routes.scenario(scenario_id))

    async def find_scenario(self, tag_or_id: str) -> Scenario:
        """The scenario with this id, else the one with this tag (404 if none)."""
        for scenario in await self.scenarios():
            if tag_or_id in (scenario.id, scenario.tag):
                return scenario
        raise AlgomancyError(404, f"no scenario with id or tag {tag_or_id!r}")

    async def delete_scenario(self, scenario_id: str) -> None:
        await self._send(self.routes.delete_scenario(scenario_id))

    async def run(self, scenario_id: str) -> Scenario:
        return await self._send(self.routes.action(scenario_id, "run"))

    async def cancel(self, scenario_id: str) -> Scenario:
        return await self._send(self.routes.action(scenario_id, "cancel"))

    async def reset(self, scenario_id: str) -> Scenario:
        """Back to `created` (a failed or complete scenario), ready to run again."""
        return await self._send(self.routes.action(scenario_id, "reset"))

    async def status(self, scenario_id: str) -> ScenarioStatus:
        return await self._send(self.routes.status(scenario_id))

    async def processing(self) -> Scenario | None:
        return await self._send(self.routes.processing())

    async def result_tables(self, scenario_id: str) -> list[TableInfo]:
        return await self._send(self.routes.result_tables(scenario_id))

    async def download_result_table(
        self, scenario_id: str, table: str, format: str = "csv"
    ) -> bytes:
        """A whole result table as the bytes of a CSV (or `format="xlsx"`) file."""
        return await self._send(self.routes.download_result_table(scenario_id, table, format))

    async def download_archive(self, scenario_id: str) -> bytes:
        """The complete scenario as a zip archive (see `import_archive`)."""
        return await self._send(self.routes.download_archive(scenario_id))

    async def import_archive(self, payload: bytes, *, tag: str | None = None) -> Scenario:
        """Import a scenario archive into this session (`tag`: another tag than the
        archive's); the scenario is complete, with the archive's fingerprint."""
        return await self._send(self.routes.import_archive(payload, tag))

    async def result_frame(
        self, scenario_id: str, table: str, *, offset: int = 0, limit: int = 1000
    ) -> Frame:
        return await self._send(self.routes.result_frame(scenario_id, table, offset, limit))

    async def scenario_reports(
        self, scenario_id: str, *, offset: int = 0, limit: int = 1000
    ) -> Frame:
        """The intermediate values of the scenario's latest run (`ctx.report`): a
        frame of `step` and `value`, in the order reported (`.to_pandas()`)."""
        return await self._send(self.routes.scenario_reports(scenario_id, offset, limit))

    async def events(
        self, scenario_id: str, *, timeout: float | None = 60.0
    ) -> AsyncIterator[ScenarioEvent]:
        """The scenario's Server-Sent Events until it is complete or failed (from the
        start of its current run). `timeout` bounds the wait for each line."""
        url = self.routes.events_path(scenario_id)
        async with self.http.stream(
            "GET", url, timeout=httpx.Timeout(60.0, read=timeout)
        ) as response:
            if response.status_code >= 400:
                await response.aread()
                raise_for(response)
            async for message in EventSource(response).aiter_sse():
                event = scenario_event(message)
                if event is not None:
                    yield event

    async def watch_session(
        self,
        session_id: str | None = None,
        last_event_id: str | int | None = None,
        *,
        idle_timeout: float | None = None,
    ) -> AsyncIterator[SessionEvent]:
        """Every change in the session (default: the client's) as it happens, by any
        client: an endless async iterator (break out of it, or pass `idle_timeout` to
        end after that many seconds without a change; it also ends after
        `session.deleted`). From `last_event_id` on when given (the changes after it
        are replayed first). A broken connection is resumed where it stopped."""
        stream = SessionStream(
            self.routes.session_events_path(session_id),
            None if last_event_id is None else str(last_event_id),
            idle_timeout,
        )
        while True:
            headers, params, timeout = stream.request()
            try:
                async with self.http.stream(
                    "GET", stream.path, headers=headers, params=params, timeout=timeout
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise_for(response)
                    async for message in EventSource(response).aiter_sse():
                        event = stream.event(message)
                        if event is not None:
                            yield event
                            if stream.ends(event):
                                return
                return  # the server ended it (idle_timeout)
            except httpx.TransportError as error:
                stream.broke(error)
                await asyncio.sleep(RECONNECT_DELAY)

    async def wait(
        self,
        scenario_id: str,
        *,
        progress: bool = True,
        timeout: float | None = None,
        interval: float = 0.5,
        events: bool = True,
        file: IO[str] | None = None,
    ) -> Scenario:
        """Follow the scenario until it is complete or failed; the final scenario.

        Follows the Server-Sent Events (`events=True`), and polls the status every
        `interval` seconds when the stream is not available or breaks off. With
        `progress`, shows a bar with the algorithm's message (to `file`, default
        stderr). Raises TimeoutError after `timeout` seconds."""
        deadline = Deadline(f"scenario {scenario_id}", timeout)
        bar = ProgressBar(progress, scenario_id[:8], file)
        try:
            if events:
                try:
                    async for event in self.events(scenario_id, timeout=deadline.read_timeout()):
                        bar.update(event)
                        if event.status in TERMINAL:
                            break
                        deadline.check()
                except httpx.TransportError:
                    pass  # the stream broke off: poll instead
            while True:
                state = await self.status(scenario_id)
                bar.update(state)
                if state.status in TERMINAL:
                    return await self.scenario(scenario_id)
                deadline.check()
                await asyncio.sleep(interval)
        finally:
            bar.close()
