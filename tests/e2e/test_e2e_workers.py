"""Several server processes on one state: gunicorn -w 2 (SQLite, PostgreSQL), two
uvicorn processes on one PostgreSQL database, and the in-memory store refusing."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from algomancy_api.cli import ENV_OVERRIDES, ENV_SPEC, EXAMPLE
from algomancy_core.scenario import CANCELLED
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import scenario_status, wait_for
from tests.server import ROOT, ServerProcess

pytestmark = pytest.mark.slow

API = "/api/v1"
THREADS = 4
PER_THREAD = 5
POLLS_PER_THREAD = 60
#: Order of the states a scenario passes through on one run; never goes backwards.
STAGE = {"created": 0, "queued": 1, "processing": 2, "complete": 3, "failed": 3}
Json = Any


def ok(response: httpx.Response, status: int = 200) -> Json:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def gunicorn(cwd: Path, overrides: dict[str, Any]) -> ServerProcess:
    """`gunicorn -w 2` with uvicorn workers serving the example with `overrides`.
    Logging goes through gunicorn's dictConfig defaults, whose format carries the
    worker's pid on every access line."""
    log_config = cwd / "gunicorn-logging.json"
    # gunicorn's defaults with a root logger that prints nothing twice.
    log_config.write_text(json.dumps({"version": 1, "root": {"level": "INFO", "handlers": []}}))
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-k",
        "uvicorn.workers.UvicornWorker",
        "--no-control-socket",
        "--log-config-json",
        str(log_config),
        "--graceful-timeout",
        "5",
        "--bind",
        "127.0.0.1:{port}",
        "algomancy_api.cli:app_from_environment()",
    ]
    env = {ENV_SPEC: EXAMPLE, ENV_OVERRIDES: json.dumps(overrides)}
    return ServerProcess([], cwd, env=env, command=command)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_state(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Configuration overrides for a store that several processes share."""
    if request.param == "postgres":
        return {"database_url": request.getfixturevalue("postgres_url")}
    return {"has_persistent_state": True, "data_path": str(tmp_path / "state")}


@pytest.fixture
def gunicorn_server(tmp_path: Path, shared_state: dict[str, Any]) -> Iterator[ServerProcess]:
    server = gunicorn(tmp_path, shared_state)
    try:
        yield server.start()
    finally:
        server.stop()


def fresh_connection_client(server: ServerProcess) -> httpx.Client:
    """A client that opens a new connection per request, so that requests spread
    over gunicorn's workers rather than sticking to the one that took the first."""
    return httpx.Client(
        base_url=f"{server.base}{API}",
        timeout=30,
        headers={"Connection": "close"},
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def test_gunicorn_two_workers_share_one_state(gunicorn_server: ServerProcess) -> None:
    server = gunicorn_server
    with fresh_connection_client(server) as api:
        sid = ok(api.get("/sessions"))["default"]
    start_line = threading.Barrier(THREADS)
    contested: list[int] = []

    def create(thread: int) -> list[str]:
        with fresh_connection_client(server) as api:
            start_line.wait(timeout=30)
            # Every thread wants the same tag at the same moment: one wins, the rest 409.
            body = {"tag": "contested", "dataset_key": "Master data", "algo_name": "ABC slotting"}
            contested.append(api.post(f"/sessions/{sid}/scenarios", json=body).status_code)
            ids = []
            for i in range(PER_THREAD):
                body = {
                    "tag": f"t{thread}-{i}",
                    "dataset_key": "Master data",
                    "algo_name": "ABC slotting",
                    "algo_params": {"policy": "class_based" if i % 2 else "turnover"},
                }
                created = ok(api.post(f"/sessions/{sid}/scenarios", json=body), 201)
                # Read straight back, most likely through the other worker.
                assert ok(api.get(f"/sessions/{sid}/scenarios/{created['id']}")) == created
                ids.append(created["id"])
            return ids

    with ThreadPoolExecutor(THREADS) as pool:
        created_ids = [i for ids in pool.map(create, range(THREADS)) for i in ids]
    assert sorted(contested) == [201] + [409] * (THREADS - 1)

    with fresh_connection_client(server) as api:
        for _ in range(5):
            listed = ok(api.get(f"/sessions/{sid}/scenarios"))
            tags = [s["tag"] for s in listed]
            assert len(tags) == len(set(tags)) == THREADS * PER_THREAD + 1
            assert {s["id"] for s in listed} >= set(created_ids)

    def run_and_poll(ids: list[str]) -> tuple[int, dict[str, list[str]]]:
        seen: dict[str, list[str]] = {i: [] for i in ids}
        polls = 0
        with fresh_connection_client(server) as api:
            for scenario_id in ids:
                queued = ok(api.post(f"/sessions/{sid}/scenarios/{scenario_id}/run"), 202)
                seen[scenario_id].append(queued["status"])

            def poll_all() -> dict[str, str]:
                nonlocal polls
                for scenario_id in ids:
                    # Every poll answers, whichever worker takes it: never a 404.
                    status = ok(api.get(f"/sessions/{sid}/scenarios/{scenario_id}/status"))
                    seen[scenario_id].append(status["status"])
                    polls += 1
                return {k: v[-1] for k, v in seen.items()}

            wait_for(
                poll_all,
                lambda last: (
                    polls >= POLLS_PER_THREAD
                    and all(s in ("complete", "failed") for s in last.values())
                ),
                timeout=90,
                what="every run finished",
            )
        return polls, seen

    chunks = [created_ids[t * PER_THREAD : (t + 1) * PER_THREAD] for t in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(run_and_poll, chunks))
    assert sum(polls for polls, _ in results) >= THREADS * POLLS_PER_THREAD
    for _, seen in results:
        for scenario_id, statuses in seen.items():
            stages = [STAGE[s] for s in statuses]
            assert stages == sorted(stages), (scenario_id, statuses)
            assert statuses[0] == "queued" and statuses[-1] == "complete", statuses

    with fresh_connection_client(server) as api:
        final = {s["id"]: s for s in ok(api.get(f"/sessions/{sid}/scenarios"))}
    runs = []
    for scenario_id in created_ids:
        scenario = final[scenario_id]
        assert scenario["status"] == "complete" and scenario["error"] is None
        assert scenario["kpis"]["throughput"]["value"] > 0
        runs.append((parse(scenario["started_at"]), parse(scenario["finished_at"])))
    # One run at a time in a session, across both workers: a scenario run twice, or
    # two runs at once, would show as overlapping intervals.
    runs.sort()
    for (_, finished), (started, _) in itertools.pairwise(runs):
        assert finished <= started, runs

    # Both workers answered requests (the access log names the worker's pid).
    served = Counter(re.findall(r"\[(\d+)\] \[INFO\] 127\.0\.0\.1:\d+ - \"", server.log()))
    assert len(served) == 2, served


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.mark.postgres
def test_two_uvicorn_processes_on_one_postgres_database(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811 - the fixture
) -> None:
    servers = [
        ServerProcess(["--example", "--database-url", postgres_url], tmp_path) for _ in range(2)
    ]
    try:
        for server in servers:
            server.start()
        a, b = (httpx.Client(base_url=f"{s.base}{API}", timeout=30) for s in servers)
        with a, b:
            sid = ok(a.get("/sessions"))["default"]
            assert ok(b.get("/sessions"))["default"] == sid

            body = {"tag": "abc", "dataset_key": "Master data", "algo_name": "ABC slotting"}
            created = ok(a.post(f"/sessions/{sid}/scenarios", json=body), 201)
            path = f"/sessions/{sid}/scenarios/{created['id']}"
            assert ok(b.get(path)) == created
            assert ok(b.get(f"{path}/status"))["status"] == "created"

            ok(b.post(f"{path}/run"), 202)
            scenario_status(a.get, path, {"complete"})
            assert ok(a.get(path)) == ok(b.get(path))
            assert ok(a.get(path))["kpis"]["throughput"]["value"] > 0

            body = {"tag": "slow", "dataset_key": "Master data", "algo_name": "Slow"}
            slow = ok(
                b.post(f"/sessions/{sid}/scenarios", json=body | {"algo_params": {"duration": 30}}),
                201,
            )
            slow_path = f"/sessions/{sid}/scenarios/{slow['id']}"
            ok(b.post(f"{slow_path}/run"), 202)
            scenario_status(a.get, slow_path, {"processing"})
            # Either dispatcher may claim the run; cancel through the one that did not.
            owner_pid = lease_owner_pid(postgres_url, slow["id"])
            pids = [s.process.pid for s in servers if s.process is not None]
            assert owner_pid in pids, (owner_pid, pids)
            other = a if owner_pid == pids[1] else b
            assert ok(other.post(f"{slow_path}/cancel"), 202)["id"] == slow["id"]
            # The owner looks at cancel flags in the shared store about once a second.
            scenario_status(other.get, slow_path, {"failed"})
            for client in (a, b):
                failed = ok(client.get(slow_path))
                assert failed["status"] == "failed" and failed["error"] == CANCELLED
                assert failed["progress"] < 1 and failed["result"] is None
    finally:
        for server in servers:
            server.stop()


def lease_owner_pid(database_url: str, scenario_id: str) -> int:
    """The pid in the `host:pid:token` owner of a processing run, read from the database."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT lease_owner FROM scenarios WHERE id = %s", (scenario_id,)
        ).fetchone()
    assert row is not None and row[0], row
    return int(str(row[0]).split(":")[1])


def run_until_it_gives_up(server: ServerProcess, timeout: float = 60.0) -> int:
    """Start `server` and wait for it to stop by itself; its exit status. The first
    worker may answer /health before the second one refuses, or may not."""
    with contextlib.suppress(RuntimeError):  # it exited before any worker answered
        server.start(timeout=timeout)
    try:
        assert server.process is not None
        return server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the server kept running:\n{server.log()}")
    finally:
        server.stop()


def assert_says_why(log: str) -> None:
    assert "the in-memory store keeps state inside one process" in log, log
    assert "has_persistent_state" in log and "database_url" in log, log


def test_in_memory_store_refuses_gunicorn_workers(tmp_path: Path) -> None:
    server = gunicorn(tmp_path, {"has_persistent_state": False})
    assert run_until_it_gives_up(server) != 0, server.log()
    assert_says_why(server.log())


def test_in_memory_store_refuses_uvicorn_workers(tmp_path: Path) -> None:
    """`uvicorn --workers 2` with the factory: the second worker refuses to start and
    uvicorn stops (with exit status 0, uvicorn's choice; the log says why)."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "--workers",
        "2",
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "algomancy_api.cli:app_from_environment",
    ]
    env = {ENV_SPEC: EXAMPLE, ENV_OVERRIDES: json.dumps({"has_persistent_state": False})}
    server = ServerProcess([], tmp_path, env=env, command=command)
    run_until_it_gives_up(server)
    assert_says_why(server.log())


def test_cli_refuses_in_memory_with_several_workers(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "algomancy_api",
            "serve",
            "--example",
            "--in-memory",
            "--workers",
            "2",
            "--port",
            "0",
        ],
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("algomancy-api: workers:"), lines
    assert "has_persistent_state" in lines[0] and "database_url" in lines[0]
    assert not (tmp_path / "algomancy-data").exists()
