"""Two CPU-bound scenarios in two sessions at once against one alone (issue 7
figure 9): the speed-up on this machine's cores, on the process executor
(``max_workers 2``) and on a Dask `LocalCluster` of 2 single-threaded workers.

The algorithm (`benchmarks.configs.Work`) does a fixed amount of pure-Python work,
calibrated to `BENCH_WORK_SECONDS` (default 3) on one core. Wall time is measured
from the ``/run`` requests until both ``/status`` say complete. Speed-up =
2 x (one alone) / (two together); 2.0 is perfect on 2 cores. The baseline is the
same speed-up of plain processes doing the same work, measured in the same run
(the machine may be shared).

    python -m benchmarks.bench_parallel
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator

import httpx

from benchmarks.common import ROOT, Row, Server, api, env_float, run_alone
from benchmarks.configs import work_unit

WORK_SECONDS = env_float("BENCH_WORK_SECONDS", 3.0)
CONFIG = "benchmarks.configs:instant_config"
SESSIONS = ("main", "second")


def calibrate() -> int:
    """Units of `work_unit` that take about `WORK_SECONDS` here."""
    start = time.perf_counter()
    units = 0
    while time.perf_counter() - start < 0.3:
        work_unit()
        units += 1
    return max(1, round(units * WORK_SECONDS / (time.perf_counter() - start)))


def work(units: int) -> int:
    return sum(work_unit() for _ in range(units))


def machine_speedup(units: int) -> float:
    """The same work in plain processes, one alone then two together: what this
    machine (with whatever else runs on it now) allows."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        pool.map(work, [1, 1])  # both processes started and warm
        start = time.perf_counter()
        pool.apply(work, (units,))
        one = time.perf_counter() - start
        start = time.perf_counter()
        pool.map(work, [units, units], chunksize=1)
        two = time.perf_counter() - start
    return 2 * one / two


def run_all(client: httpx.Client, units: int, sessions: tuple[str, ...]) -> float:
    """Create a Work scenario in each session, run them all, wait; wall seconds."""
    ids = []
    for sid in sessions:
        response = client.post(
            f"/sessions/{sid}/scenarios",
            json={
                "tag": f"work-{time.monotonic_ns()}",
                "dataset_key": "Master data",
                "algo_name": "Work",
                "algo_params": {"units": units},
            },
        )
        response.raise_for_status()
        ids.append((sid, response.json()["id"]))
    start = time.perf_counter()
    for sid, scenario_id in ids:
        client.post(f"/sessions/{sid}/scenarios/{scenario_id}/run").raise_for_status()
    deadline = time.monotonic() + WORK_SECONDS * 6 + 60
    pending = list(ids)
    while pending:
        if time.monotonic() > deadline:
            raise TimeoutError("the Work scenarios did not complete in time")
        sid, scenario_id = pending[0]
        status = client.get(f"/sessions/{sid}/scenarios/{scenario_id}/status").json()
        if status["status"] == "failed":
            raise RuntimeError(f"a Work scenario failed: {status}")
        if status["status"] == "complete":
            pending.pop(0)
        else:
            time.sleep(0.02)
    return time.perf_counter() - start


def speedup(args: list[str], label: str, units: int) -> list[Row]:
    machine = machine_speedup(units)  # right before, so both see the same machine load
    with (
        Server(["--config", CONFIG, "--in-memory", "--max-workers", "2", *args]) as server,
        api(server) as client,
    ):
        client.post("/sessions", json={"display_name": SESSIONS[1]}).raise_for_status()
        run_all(client, 1, SESSIONS)  # warm up both workers
        one = run_all(client, units, SESSIONS[:1])
        two = run_all(client, units, SESSIONS)
    return [
        Row(
            f"9 {label}: speed-up of 2 scenarios in 2 sessions (2 x one / two)",
            2 * one / two,
            "x",
            machine,
            note=f"one alone {one:.2f} s, two together {two:.2f} s; baseline: the same "
            "work in 2 plain processes",
        )
    ]


@contextlib.contextmanager
def dask_cluster() -> Iterator[str]:
    from distributed import LocalCluster

    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p
    )
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster:
        yield str(cluster.scheduler_address)


def run() -> list[Row]:
    units = calibrate()
    rows = speedup(["--executor", "process"], "process executor", units)
    try:
        with dask_cluster() as address:
            rows += speedup(
                ["--executor", "dask", "--dask-address", address], "Dask executor", units
            )
    except Exception as exc:  # Dask is optional: say why, keep the other figures
        rows.append(Row("9 Dask executor: speed-up", float("nan"), note=f"failed: {exc!r}"))
    return rows


if __name__ == "__main__":
    sys.exit(run_alone(run))
