"""The session stream across server processes sharing one store: a change made
through server A reaches a stream held on server B (SQLite file; PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from algomancy_example.domain import MASTER_DATA
from tests import patient_http as http
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.server import ServerProcess
from tests.streams import Follower

#: Real server processes (two uvicorn, gunicorn workers) and PostgreSQL.
pytestmark = pytest.mark.slow

PREFIX = "/api/v1"


def two_servers(args: list[str], folder: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with ExitStack() as stack:
        a = stack.enter_context(ServerProcess(["--example", "--no-ui", *args], folder))
        b = stack.enter_context(ServerProcess(["--example", "--no-ui", *args], folder))
        yield a, b


@pytest.fixture
def on_sqlite(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    yield from two_servers(["--data-path", str(tmp_path)], tmp_path)


@pytest.fixture
def on_postgres(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    yield from two_servers(["--database-url", postgres_url], tmp_path)


def a_change_on_a_reaches_b(a: ServerProcess, b: ServerProcess) -> None:
    session = http.get(f"{b.base}{PREFIX}/sessions").json()["default"]
    with Follower(f"{b.base}{PREFIX}/sessions/{session}/events") as follower:
        follower.wait_for_event("open")
        base = f"{a.base}{PREFIX}/sessions/{session}"
        body = {"tag": "from A", "dataset_key": MASTER_DATA, "algo_name": "ABC slotting"}
        made = http.post(f"{base}/scenarios", json=body)
        assert made.status_code == 201, made.text
        scenario_id = made.json()["id"]
        follower.wait_for_event("scenario.created", scenario_id)
        http.post(f"{base}/scenarios/{scenario_id}/run")
        follower.wait_for_event("scenario.queued", scenario_id)
        complete = follower.wait_for_event("scenario.complete", scenario_id)
        assert complete["data"]["scenario"]["tag"] == "from A"
        http.delete(f"{base}/scenarios/{scenario_id}")
        follower.wait_for_event("scenario.deleted", scenario_id)
        derived = http.post(f"{base}/data/{MASTER_DATA}/derive", json={"new_key": "d2"})
        assert derived.status_code == 201, derived.text
        follower.wait_for_event("dataset.added", "d2")
    ids = [int(e["id"]) for e in follower.events]
    assert ids == sorted(set(ids))
    # Resuming on A from B's first id replays the same changes.
    first = follower.events[1]["id"]
    url = f"{a.base}{PREFIX}/sessions/{session}/events"
    with Follower(url, {"Last-Event-ID": first}) as resumed:
        resumed.wait_for_event("dataset.added", "d2")

    def plain(events: list[dict[str, object]]) -> list[object]:
        return [e["id"] for e in events if e["event"] != "scenario.progress"]

    assert plain(resumed.events) == plain(follower.events[2:])


def test_across_two_processes_on_one_sqlite_file(
    on_sqlite: tuple[ServerProcess, ServerProcess],
) -> None:
    a_change_on_a_reaches_b(*on_sqlite)


@pytest.mark.postgres
def test_across_two_processes_on_postgresql(
    on_postgres: tuple[ServerProcess, ServerProcess],
) -> None:
    a_change_on_a_reaches_b(*on_postgres)


def test_across_gunicorn_workers(tmp_path: Path) -> None:
    """Streams and changes spread over two workers: every stream sees every change."""
    args = ["--example", "--no-ui", "--workers", "2", "--data-path", str(tmp_path)]
    with ServerProcess(args, tmp_path) as server, ExitStack() as stack:
        session = http.get(f"{server.base}{PREFIX}/sessions").json()["default"]
        url = f"{server.base}{PREFIX}/sessions/{session}/events"
        followers = [stack.enter_context(Follower(url)) for _ in range(4)]
        for follower in followers:
            follower.wait_for_event("open")
        base = f"{server.base}{PREFIX}/sessions/{session}"
        keys = [f"copy {n}" for n in range(4)]
        for key in keys:  # a connection each: the workers take turns
            made = http.post(f"{base}/data/{MASTER_DATA}/derive", json={"new_key": key})
            assert made.status_code == 201, made.text
        for follower in followers:
            for key in keys:
                follower.wait_for_event("dataset.added", key)
