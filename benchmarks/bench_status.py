"""Status polling throughput (issue 7 figures 1, 2; issue 8's SQLite comparison).

1. ``GET …/scenarios/{id}/status`` requests/s and p50/p99 latency on one server
   process, against a bare FastAPI route returning a constant dict served by
   uvicorn with the same settings (`benchmarks.baseline_app`). Target ≥ 0.8x.
2. The same polling while a CPU-bound scenario runs on the process executor,
   against the same server idle. Target ≥ 0.7x; also the p50 latency ratio.
8, 11. The same polling on the SQLite store against the in-memory one (targets:
   ≥ 0.8x the throughput, p99 ≤ 1.5x), and on PostgreSQL (a cluster the benchmark
   starts itself, as the tests do; target ≥ 0.5x).
23. No long tail (issue 23): at 64 connections each poll's p99 latency ≤ 5x its
   p50, on memory, SQLite and PostgreSQL, and under gunicorn with 2 workers
   (`-c python:algomancy_api.gunicorn_conf`, SQLite; the rows "23 …: p99 / p50").

The bare route, the in-memory and the SQLite servers are each measured `ROUNDS`
times, in turn, and the best round (the most requests per second) counts, as
`timeit` takes the best: one round on a small shared machine varies by ±10%. The
requests per second of every round are in the rows' notes.

    python -m benchmarks.bench_status
"""

from __future__ import annotations

import json
import sys
import time

import httpx

from algomancy_api.envnames import ENV_OVERRIDES, ENV_SPEC
from benchmarks import postgres
from benchmarks.common import (
    PREFIX,
    Load,
    Row,
    Server,
    api,
    env_float,
    env_int,
    load,
    run_alone,
)

CONFIG = "benchmarks.configs:instant_config"
CPU_SECONDS = env_float("BENCH_CPU_SECONDS", 15.0)
ROUNDS = env_int("BENCH_STATUS_ROUNDS", 2)


#: The bare FastAPI route's server (`benchmarks.baseline_app`), as ours is served.
BARE = [
    sys.executable,
    "-m",
    "uvicorn",
    "benchmarks.baseline_app:app",
    "--host",
    "127.0.0.1",
    "--port",
    "{port}",
    "--log-level",
    "info",
]


def create(client: httpx.Client, algorithm: str, params: dict | None = None, tag: str = "") -> str:
    response = client.post(
        "/sessions/main/scenarios",
        json={
            "tag": tag or f"{algorithm}-{time.monotonic_ns()}",
            "dataset_key": "Master data",
            "algo_name": algorithm,
            "algo_params": params or {},
        },
    )
    response.raise_for_status()
    return str(response.json()["id"])


def run_and_wait(client: httpx.Client, scenario_id: str, until: str = "complete") -> dict:
    client.post(f"/sessions/main/scenarios/{scenario_id}/run").raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = client.get(f"/sessions/main/scenarios/{scenario_id}/status").json()
        if status["status"] == until or status["status"] in ("complete", "failed"):
            return dict(status)
        time.sleep(0.02)
    raise TimeoutError(f"scenario {scenario_id} never reached {until}")


def status_url(server: Server, scenario_id: str) -> str:
    return f"{server.base}{PREFIX}/sessions/main/scenarios/{scenario_id}/status"


def poll_server(args: list[str]) -> Load:
    """Polling throughput of a server with one complete Instant scenario."""
    with Server(["--config", CONFIG, *args]) as server, api(server) as client:
        scenario_id = create(client, "Instant")
        run_and_wait(client, scenario_id)
        return load(status_url(server, scenario_id))


def poll_gunicorn(workers: int = 2) -> Load:
    """Polling throughput of gunicorn with `workers` uvicorn workers over one SQLite
    state (the in-memory store refuses several workers), as `gunicorn_conf` serves."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:algomancy_api.gunicorn_conf",
        "-w",
        str(workers),
        "--no-control-socket",
        "--graceful-timeout",
        "5",
        "--bind",
        "127.0.0.1:{port}",
        "algomancy_api.cli:app_from_environment()",
    ]
    env = {
        ENV_SPEC: CONFIG,
        ENV_OVERRIDES: json.dumps({"has_persistent_state": True, "data_path": "state"}),
    }
    with Server(command=command, env=env) as server, api(server) as client:
        scenario_id = create(client, "Instant")
        run_and_wait(client, scenario_id)
        return load(status_url(server, scenario_id))


def tail_row(name: str, measured: Load) -> Row:
    """Issue 23's "no long tail": p99 ≤ 5x p50 of the same run."""
    return Row(f"23 {name}: p99 / p50", measured.p99_ms, "ms", measured.p50_ms, 5.0, op="<=")


def latency_rows(name: str, measured: Load, baseline: Load) -> list[Row]:
    return [
        Row(f"{name}: p50 latency", measured.p50_ms, "ms", baseline.p50_ms),
        Row(f"{name}: p99 latency", measured.p99_ms, "ms", baseline.p99_ms),
    ]


def figures_idle() -> list[Row]:
    command = BARE
    rounds: dict[str, list[Load]] = {"bare": [], "memory": [], "sqlite": []}
    for _ in range(ROUNDS):
        with Server(command=command) as server:
            rounds["bare"].append(load(status_url(server, "00000000-0000-0000-0000-000000000000")))
        rounds["memory"].append(poll_server(["--in-memory"]))
        rounds["sqlite"].append(poll_server(["--data-path", "state"]))
    bare, memory, sqlite = (max(rounds[name], key=lambda r: r.rps) for name in rounds)
    note = "best of {} rounds (req/s: {})".format
    notes = {
        name: note(len(runs), ", ".join(f"{r.rps:,.0f}" for r in runs))
        for name, runs in rounds.items()
    }
    rows = [
        Row(
            "1 status poll, in memory / bare FastAPI",
            memory.rps,
            "req/s",
            bare.rps,
            0.8,
            note=f"in memory {notes['memory']}; bare {notes['bare']}",
        ),
        *latency_rows("1 status poll, in memory / bare FastAPI", memory, bare),
        Row(
            "8/11 status poll, SQLite / in memory",
            sqlite.rps,
            "req/s",
            memory.rps,
            0.8,
            note=f"SQLite {notes['sqlite']}",
        ),
        Row("8/11 status poll, SQLite / in memory: p50", sqlite.p50_ms, "ms", memory.p50_ms),
        Row(
            "8/11 status poll, SQLite / in memory: p99",
            sqlite.p99_ms,
            "ms",
            memory.p99_ms,
            1.5,
            op="<=",
        ),
    ]
    rows += [
        tail_row("status poll, in memory", memory),
        tail_row("status poll, SQLite", sqlite),
        tail_row("status poll, gunicorn -w 2 (SQLite)", poll_gunicorn()),
    ]
    if not postgres.available():
        return [*rows, Row("11 status poll, PostgreSQL", float("nan"), note="no PostgreSQL")]
    with postgres.postgres_cluster() as cluster:
        pg = poll_server(["--database-url", cluster.new_database()])
    name = "11 status poll, PostgreSQL / in memory"
    return [
        *rows,
        Row(name, pg.rps, "req/s", memory.rps, 0.5),
        *latency_rows(name, pg, memory),
        tail_row("status poll, PostgreSQL", pg),
    ]


def figures_busy() -> list[Row]:
    args = ["--config", CONFIG, "--in-memory", "--executor", "process", "--max-workers", "2"]
    with Server(args) as server, api(server) as client:
        # Warm the worker process up: the first run pays for the interpreter start.
        run_and_wait(client, create(client, "Spin", {"seconds": 0.1}))
        scenario_id = create(client, "Spin", {"seconds": CPU_SECONDS})
        idle = load(status_url(server, scenario_id))
        started = time.monotonic()
        status = run_and_wait(client, scenario_id, until="processing")
        busy = load(status_url(server, scenario_id))
        still = client.get(f"/sessions/main/scenarios/{scenario_id}/status").json()
        overlapped = still["status"] == "processing"
        client.post(f"/sessions/main/scenarios/{scenario_id}/cancel")
    note = (
        f"the scenario was {status['status']} at the start and {still['status']} at the end "
        f"of the measured window ({time.monotonic() - started:.1f} s after /run)"
    )
    name = "2 status poll, CPU-bound run on process executor / idle"
    return [
        Row(name, busy.rps, "req/s", idle.rps, 0.7, note="" if overlapped else note),
        Row("2 (issue 6) poll p50 latency, during run / idle", busy.p50_ms, "ms", idle.p50_ms),
        Row("2 (issue 6) poll p99 latency, during run / idle", busy.p99_ms, "ms", idle.p99_ms),
    ]


def run() -> list[Row]:
    return figures_idle() + figures_busy()


if __name__ == "__main__":
    sys.exit(run_alone(run))
