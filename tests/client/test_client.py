"""`AlgomancyClient` and `AsyncAlgomancyClient` against a real server process: every
method, once through each client (one test body, awaited either way)."""

from __future__ import annotations

import asyncio
import inspect
import io
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pandas as pd
import pytest

from algomancy_api.client import (
    AlgomancyClient,
    AlgomancyError,
    AsyncAlgomancyClient,
    Scenario,
    ScenarioEvent,
    SessionEvent,
)
from algomancy_example.domain import MASTER_DATA, sample_file
from tests.server import ServerProcess

#: Every test talks to a real server process.
pytestmark = pytest.mark.slow


class Either:
    """The sync or the async client behind one awaitable face."""

    def __init__(self, client: AlgomancyClient | AsyncAlgomancyClient) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.client, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        return call

    async def watch(self, **options: Any) -> list[SessionEvent]:
        stream = self.client.watch_session(**options)
        if inspect.isasyncgen(stream):
            return [event async for event in stream]
        return list(stream)

    async def events(self, scenario_id: str) -> list[ScenarioEvent]:
        stream = self.client.events(scenario_id)
        if inspect.isasyncgen(stream):
            return [event async for event in stream]
        return list(stream)


def drive(kind: str, server: ServerProcess, body: Callable[[Either], Awaitable[None]]) -> None:
    """Run `body` with a client of `kind` in a session of its own."""
    session = f"{kind}-{uuid.uuid4().hex[:8]}"
    if kind == "sync":
        with AlgomancyClient(server.base, session=session) as client:
            client.create_session(session)
            asyncio.run(body(Either(client)))
    else:

        async def main() -> None:
            async with AsyncAlgomancyClient(server.base, session=session) as client:
                await client.create_session(session)
                await body(Either(client))

        asyncio.run(main())


KINDS = ["sync", "async"]


@pytest.mark.parametrize("kind", KINDS)
def test_platform_and_sessions(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        assert (await api.health()).status == "ok"
        assert (await api.me()).authenticated is False
        made = await api.create_session(f"s-{kind}")
        names = [s.display_name for s in (await api.sessions()).sessions]
        assert f"s-{kind}" in names and "main" in names
        renamed = await api.rename_session(made.id, f"r-{kind}")
        assert renamed.id == made.id and renamed.display_name == f"r-{kind}"
        copy = await api.copy_session(made.id, f"c-{kind}")
        assert copy.id != made.id and copy.display_name == f"c-{kind}"
        after = await api.delete_session(copy.id)
        assert copy.id not in [s.id for s in after.sessions]
        await api.delete_session(made.id)

    drive(kind, example_server, body)


@pytest.mark.parametrize("kind", KINDS)
def test_discovery(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        assert {"Slow", "ABC slotting"} <= set(await api.algorithms())
        slow = await api.parameters("Slow")
        assert [(p.name, p.type, p.min, p.max) for p in slow] == [("duration", "integer", 1, 60)]
        kpis = await api.kpis()
        assert "travel_distance" in kpis
        described = {k.name: k for k in await api.describe_kpis()}
        assert set(described) == set(kpis) and described["travel_distance"].unit

    drive(kind, example_server, body)


@pytest.mark.parametrize("kind", KINDS)
def test_datasets_and_etl(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        assert MASTER_DATA in await api.datasets()
        tables = {t.name: t for t in await api.dataset_tables(MASTER_DATA)}
        assert "sku_data" in tables and tables["sku_data"].rows > 0
        frame = await api.dataset_frame(MASTER_DATA, "sku_data", limit=5)
        df = frame.to_pandas()
        assert isinstance(df, pd.DataFrame) and len(df) == 5
        assert list(df.columns) == tables["sku_data"].columns
        growth = {p.name: p for p in await api.data_parameters(MASTER_DATA)}["demand_growth"]
        assert growth.type == "float" and growth.max == 10.0
        csv = await api.download_table(MASTER_DATA, "sku_data", "csv")
        assert csv.decode().splitlines()[0].split(",")[0] == tables["sku_data"].columns[0]
        files = [sample_file("sku_data.csv"), sample_file("inventory.xlsx")]
        etl = await api.upload("uploaded", *files)
        assert etl.success is True and "uploaded" in etl.keys
        bad = await api.upload("broken", sample_file("inventory.xlsx"))
        assert bad.success is False and bad.messages
        assert all(str(m).startswith(m.severity) for m in bad.messages)
        assert "derived" in await api.derive_dataset("uploaded", "derived")
        document = await api.dataset("derived")
        await api.delete_dataset("derived")
        assert "derived" not in await api.datasets()
        document["name"] = "from json"
        assert "from json" in await api.add_dataset(document)

    drive(kind, example_server, body)


@pytest.mark.parametrize("kind", KINDS)
def test_dataset_versions_and_pinned_scenarios(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        files = [sample_file("sku_data.csv"), sample_file("inventory.xlsx")]
        first = await api.upload("week", *files)
        assert (first.dataset_version, first.success) == (1, True)
        document = await api.dataset("week")
        table = document["tables"]["sku_data"]["data"]
        column = next(c for c, values in table.items() if isinstance(values[0], int | float))
        table[column] = [v + 1 for v in table[column]]
        await api.add_dataset(document, new_version=True)
        (latest, oldest) = await api.dataset_versions("week")
        assert (latest.version, oldest.version, latest.latest) == (2, 1, True)
        assert latest.digest != oldest.digest == first.dataset_digest
        pinned = await api.create_scenario("old", "week", "ABC slotting", dataset_version=1)
        assert pinned.dataset_version == 1 and pinned.dataset_digest == oldest.digest
        same = await api.create_scenario("same", "week", "ABC slotting", dataset_version=1)
        assert same.fingerprint == pinned.fingerprint and same.lineage["known"] is True
        found = await api.scenarios(fingerprint=pinned.fingerprint)
        assert [s.tag for s in found] == ["old", "same"]
        assert (await api.dataset("week", version=1))["tables"] != document["tables"]
        (_, used) = await api.dataset_versions("week")
        assert used.scenario_ids == [pinned.id, same.id]

    drive(kind, example_server, body)


@pytest.mark.parametrize("kind", KINDS)
def test_scenario_lifecycle(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        made: Scenario = await api.create_scenario("abc", MASTER_DATA, "ABC slotting")
        assert made.status == "created" and made.algorithm.name == "ABC slotting"
        assert [s.id for s in await api.scenarios()] == [made.id]
        assert (await api.find_scenario("abc")).id == made.id
        assert (await api.find_scenario(made.id)).tag == "abc"
        assert (await api.status(made.id)).status == "created"
        assert (await api.run(made.id)).status in ("queued", "processing", "complete")
        done = await api.wait(made.id, progress=False, timeout=120)
        assert done.status == "complete" and done.kpis["travel_distance"].value is not None
        statuses = [e.status for e in await api.events(made.id)]
        assert statuses[-1] == "complete"
        assert await api.processing() is None
        for table in await api.result_tables(made.id):
            frame = await api.result_frame(made.id, table.name, limit=3)
            assert len(frame.to_pandas()) == min(3, table.rows)
            csv = await api.download_result_table(made.id, table.name)
            assert csv.decode().splitlines()[0].split(",") == table.columns
        second = await api.create_scenario("slow", MASTER_DATA, "Slow", {"duration": 1})
        await api.run(second.id)
        await api.wait(second.id, progress=False, timeout=120)
        kpis = await api.kpis_dataframe()
        assert list(kpis.index) == ["abc", "slow"]
        assert set(await api.kpis()) <= set(kpis.columns)
        assert kpis.loc["abc", "travel_distance"] == done.kpis["travel_distance"].value
        await api.delete_scenario(second.id)
        assert [s.tag for s in await api.scenarios()] == ["abc"]

    drive(kind, example_server, body)


@pytest.mark.parametrize("kind", KINDS)
def test_watch_session(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        (opened,) = await api.watch(idle_timeout=0.2)
        assert opened.kind == "open" and opened.event_id == str(opened.seq)
        made: Scenario = await api.create_scenario("w", MASTER_DATA, "ABC slotting")
        await api.run(made.id)
        await api.wait(made.id, progress=False, timeout=120)
        await api.delete_scenario(made.id)
        replayed = await api.watch(last_event_id=opened.event_id, idle_timeout=0.5)
        kinds = [e.kind for e in replayed if e.kind != "scenario.progress"]
        assert kinds == [
            "scenario.created",
            "scenario.queued",
            "scenario.started",
            "scenario.complete",
            "scenario.deleted",
        ]
        complete = next(e for e in replayed if e.kind == "scenario.complete")
        assert complete.scenario is not None and complete.scenario.status == "complete"
        assert complete.scenario.tag == "w" and complete.subject == made.id
        later = await api.watch(last_event_id=replayed[1].event_id, idle_timeout=0.5)
        assert [e.seq for e in later] == [e.seq for e in replayed[2:]]
        with pytest.raises(AlgomancyError) as raised:
            await api.watch(session_id="no such session", idle_timeout=0.2)
        assert raised.value.status == 404

    drive(kind, example_server, body)


@pytest.mark.parametrize("kind", KINDS)
def test_cancel_and_timeout(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        slow = await api.create_scenario("long", MASTER_DATA, "Slow", {"duration": 60})
        await api.run(slow.id)
        with pytest.raises(TimeoutError):
            await api.wait(slow.id, progress=False, timeout=0.5)
        await api.cancel(slow.id)
        failed = await api.wait(slow.id, progress=False, timeout=120)
        assert failed.status == "failed" and failed.error

    drive(kind, example_server, body)


@pytest.mark.parametrize("kind", KINDS)
def test_errors_carry_status_and_detail(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        with pytest.raises(AlgomancyError) as caught:
            await api.create_scenario("x", MASTER_DATA, "Nope")
        assert caught.value.status == caught.value.status_code == 404
        assert "Nope" in caught.value.detail
        # The answer's X-Request-ID, to quote in a report (the server logs it).
        assert caught.value.request_id and len(caught.value.request_id) == 32
        with pytest.raises(AlgomancyError) as caught:
            await api.create_scenario("x", MASTER_DATA, "Slow", {"duration": 0})
        assert caught.value.status in (400, 422) and "duration" in str(caught.value.detail)
        with pytest.raises(AlgomancyError) as caught:
            await api.scenario("missing")
        assert caught.value.status == 404
        with pytest.raises(AlgomancyError) as caught:
            await api.find_scenario("missing")
        assert caught.value.status == 404
        assert caught.value.request_id is None  # the client's own conclusion

    drive(kind, example_server, body)


def test_wait_shows_progress_with_the_algorithms_message(example_server: ServerProcess) -> None:
    with AlgomancyClient(example_server.base) as api:
        api.create_session("progress")
        api.session = "progress"
        slow = api.create_scenario("bar", MASTER_DATA, "Slow", {"duration": 2})
        api.run(slow.id)
        out = io.StringIO()
        done = api.wait(slow.id, file=out, timeout=120)
    assert done.status == "complete"
    shown = out.getvalue()
    assert "100%" in shown and "complete: 2/2 s" in shown and "1/2 s" in shown


def test_async_wait_shows_progress(example_server: ServerProcess) -> None:
    async def main() -> str:
        async with AsyncAlgomancyClient(example_server.base) as api:
            await api.create_session("progress-async")
            api.session = "progress-async"
            slow = await api.create_scenario("bar", MASTER_DATA, "Slow", {"duration": 1})
            await api.run(slow.id)
            out = io.StringIO()
            done = await api.wait(slow.id, file=out, timeout=120)
            assert done.status == "complete"
            return out.getvalue()

    assert "complete: 1/1 s" in asyncio.run(main())


def test_wait_polls_when_the_stream_breaks(
    example_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AlgomancyClient(example_server.base) as api:
        api.create_session("polling")
        api.session = "polling"
        slow = api.create_scenario("poll", MASTER_DATA, "Slow", {"duration": 1})
        api.run(slow.id)

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise httpx.ReadError("stream broke off")
            yield  # a generator, as events() is

        monkeypatch.setattr(api, "events", broken)
        assert api.wait(slow.id, progress=False, interval=0.05, timeout=120).status == "complete"
        polled = api.create_scenario("poll2", MASTER_DATA, "Slow", {"duration": 1})
        api.run(polled.id)
        done = api.wait(polled.id, progress=False, events=False, interval=0.05, timeout=120)
        assert done.status == "complete"


def test_configured_from_the_environment(
    example_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALGOMANCY_URL", example_server.base)
    monkeypatch.setenv("ALGOMANCY_SESSION", "from-env")
    monkeypatch.setenv("ALGOMANCY_API_KEY", "k-123")
    with AlgomancyClient() as api:
        assert api.base_url == example_server.base and api.session == "from-env"
        assert api.http.headers["Authorization"] == "Bearer k-123"
        # The example server has authentication off: the key is sent and ignored.
        api.create_session("from-env")
        assert api.scenarios() == []
    async_api = AsyncAlgomancyClient(session="explicit")
    assert async_api.session == "explicit" and async_api.base_url == example_server.base
    asyncio.run(async_api.close())


def test_unreachable_server_is_an_httpx_error() -> None:
    with (
        AlgomancyClient("http://127.0.0.1:9", timeout=2) as api,
        pytest.raises(httpx.TransportError),
    ):
        api.health()


@pytest.mark.parametrize("kind", KINDS)
def test_reset(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        made = await api.create_scenario("again", MASTER_DATA, "Slow", {"duration": 1})
        await api.run(made.id)
        done = await api.wait(made.id, progress=False, timeout=120)
        assert done.status == "complete" and done.result is not None
        reset: Scenario = await api.reset(made.id)
        assert (reset.id, reset.status, reset.progress) == (made.id, "created", 0.0)
        assert reset.result is None and reset.error is None and reset.finished_at is None
        assert all(kpi.value is None for kpi in reset.kpis.values())
        assert (await api.scenario(made.id)).status == "created"
        assert (await api.reset(made.id)).status == "created"  # created stays created
        long = await api.create_scenario("busy", MASTER_DATA, "Slow", {"duration": 60})
        await api.run(long.id)
        with pytest.raises(AlgomancyError) as caught:
            await api.reset(long.id)
        assert caught.value.status == 409
        await api.cancel(long.id)
        failed = await api.wait(long.id, progress=False, timeout=120)
        assert failed.status == "failed"
        assert (await api.reset(long.id)).error is None

    drive(kind, example_server, body)


@pytest.mark.parametrize("kind", KINDS)
def test_result_views_quantities_and_master_data(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        views = await api.result_views("ABC slotting")
        assert [v["name"] for v in views] == ["travel-heatmap", "travel-by-aisle"]
        made = await api.create_scenario("viewed", MASTER_DATA, "ABC slotting")
        await api.run(made.id)
        done: Scenario = await api.wait(made.id, progress=False, timeout=120)
        heat = await api.result_view(made.id, "travel-heatmap")
        assert heat["chart"]["type"] == "scatter" and len(heat["points"]) == 80
        travel = done.kpis["travel_distance"]
        assert travel.display is not None and travel.display["unit"] == "km/day"
        with pytest.raises(AlgomancyError) as caught:
            await api.result_view(made.id, "nope")
        assert caught.value.status == 404
        await api.derive_dataset(MASTER_DATA, "draft")
        keys = await api.save_as_master("draft", "kept")
        assert "kept" in keys
        assert (await api.dataset("kept"))["classification"] == "master_data"

    drive(kind, example_server, body)


@pytest.mark.parametrize("kind", KINDS)
def test_experiments(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        axes = [{"name": "demand_growth", "on": "data", "values": [1.0, 2.0]}]
        made = await api.create_experiment(
            "growth", "Random slotting", MASTER_DATA, "grid", axes, algo_params={"seed": 1}
        )
        assert made.counts["planned"] == 2 and made.axes == ["data.demand_growth"]
        assert [e.id for e in await api.experiments()] == [made.id]
        done = await api.wait_experiment(made.id, timeout=120, interval=0.1)
        assert done.status == "complete" and done.counts["complete"] == 2
        frame = await api.experiment_dataframe(made.id)
        assert list(frame.index) == [1, 2]
        assert list(frame["data.demand_growth"]) == [1.0, 2.0]
        assert list(frame["status"]) == ["complete", "complete"]
        by_id = {s.id: s for s in await api.scenarios()}
        for point in (1, 2):
            scenario = by_id[frame.loc[point, "scenario_id"]]
            assert frame.loc[point, "travel_distance"] == scenario.kpis["travel_distance"].value
        with pytest.raises(AlgomancyError) as refused:
            await api.sensitivity(made.id, "travel_distance")
        assert refused.value.status == 409
        stopped = await api.cancel_experiment(made.id)
        assert stopped.status == "cancelled"
        assert (await api.wait_experiment(made.id, timeout=0)).status == "cancelled"
        await api.delete_experiment(made.id, scenarios="delete")
        assert await api.experiments() == []
        assert await api.scenarios() == []

    drive(kind, example_server, body)
