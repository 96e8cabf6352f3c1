"""An experiment's points in parallel on the process executor (2 workers), through
a server (in memory), against (a) the same points run one at a time and (b) the
same calls through a bare `concurrent.futures.ProcessPoolExecutor` of 2 workers.
Parts (b) and (c), trivial points against bare pools, are `benchmarks/pool_points.py`
(their rows are printed here; their measurements and profiles are in that module).

(a) 100 points of `Work` calibrated to `BENCH_POINT_SECONDS` (default 0.2) of CPU
on one core. Serial: the same 100 runs as a session's own scenarios (one at a
time, the seed's rule), from the first `/run` to the last complete. Parallel: the
experiment (a grid of one value with 100 repetitions, so each point does the same
work), from its `POST` to its status `complete`. Speed-up = serial / parallel;
target ≥ 1.7x (2.0 is perfect on 2 cores). The baseline is what this machine,
with whatever else runs on it, allows: the speed-up of 2 plain processes doing
1 s of the same work each over one alone, measured right before. Claiming points
ahead (`pool_points`) does not cost it: with 40 points (`BENCH_POINTS=40`), before and
after in turn, load 4 to 5: 1.49x and 1.42x before, 2.13x and 1.63x after.

(d) Status polls while an experiment runs (issue 25: "Status polls while an
experiment runs stay ≥ 0.7x the idle rate"): on the server of (a), `GET …/status`
of a session's own scenario at `CONNECTIONS` connections (`benchmarks.common.load`,
the load generator in another process, as `bench_status`), first with nothing
running, then while an experiment of `BENCH_BUSY_POINTS` (default 1,000) points of
`Work` (each `BENCH_POINT_SECONDS` of CPU) runs on both workers; the experiment is
cancelled after the window, and the note says how many points were processing at its
end (the window must fall inside the experiment). Rate while busy / idle; target
≥ 0.7x. The workers run at nice 19 and `SCHED_IDLE`, so the server's event loop
keeps its core whenever it asks for it.

Profile with ``py-spy record -o profile.svg --pid <server pid>``.

    python -m benchmarks.bench_parallel_points
"""

from __future__ import annotations

import sys
import time

import httpx

from benchmarks import pool_points
from benchmarks.bench_parallel import machine_speedup
from benchmarks.common import PREFIX, Row, Server, api, env_float, env_int, load, run_alone
from benchmarks.configs import work_unit
from benchmarks.pool_points import CONFIG, DATASET, experiment_seconds, session

POINT_SECONDS = env_float("BENCH_POINT_SECONDS", 0.2)
POINTS = env_int("BENCH_POINTS", 100)
BUSY_POINTS = env_int("BENCH_BUSY_POINTS", 1000)


def calibrate(seconds: float) -> int:
    """Units of `work_unit` that take about `seconds` here."""
    start = time.perf_counter()
    units = 0
    while time.perf_counter() - start < 0.3:
        work_unit()
        units += 1
    return max(1, round(units * seconds / (time.perf_counter() - start)))


def serial_seconds(client: httpx.Client, sid: str, units: int, count: int) -> float:
    """`count` Work runs as the session's own scenarios (one at a time)."""
    ids = []
    for n in range(count):
        made = client.post(
            f"/sessions/{sid}/scenarios",
            json={
                "tag": f"serial-{n}",
                "dataset_key": DATASET,
                "algo_name": "Work",
                "algo_params": {"units": units},
            },
        )
        made.raise_for_status()
        ids.append(made.json()["id"])
    start = time.perf_counter()
    for scenario_id in ids:
        client.post(f"/sessions/{sid}/scenarios/{scenario_id}/run").raise_for_status()
    deadline = time.monotonic() + 300
    for scenario_id in ids[::-1]:  # the last queued ends last
        while True:
            status = client.get(f"/sessions/{sid}/scenarios/{scenario_id}/status").json()
            if status["status"] == "failed":
                raise RuntimeError(f"a serial Work run failed: {status}")
            if status["status"] == "complete":
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the serial Work runs did not complete in time")
            time.sleep(0.02)
    return time.perf_counter() - start


def polls_during_experiment(server: Server, client: httpx.Client, units: int) -> Row:
    """Part (d): polls of a session's own scenario while an experiment of
    `BUSY_POINTS` CPU-bound points runs, against the same polls idle."""
    made = client.post(
        "/sessions/main/scenarios",
        json={"tag": "polled", "dataset_key": DATASET, "algo_name": "Instant"},
    )
    made.raise_for_status()
    url = f"{server.base}{PREFIX}/sessions/main/scenarios/{made.json()['id']}/status"
    idle = load(url)
    sid = session(client, "busy")
    answer = client.post(
        f"/sessions/{sid}/experiments",
        json={
            "name": "busy",
            "base": {"algo_name": "Work", "dataset_key": DATASET, "algo_params": {"units": units}},
            "design": {
                "kind": "grid",
                "axes": [{"name": "units", "values": [units]}],
                "repetitions": BUSY_POINTS,
            },
        },
    )
    answer.raise_for_status()
    experiment = f"/sessions/{sid}/experiments/{answer.json()['id']}"
    busy = load(url)
    counts = client.get(experiment).json()["counts"]
    client.post(f"{experiment}/cancel").raise_for_status()
    return Row(
        f"E4 status poll while an experiment of {BUSY_POINTS} x {POINT_SECONDS} s CPU points "
        "runs (process executor, 2 workers) / idle",
        busy.rps,
        "req/s",
        idle.rps,
        0.7,
        note=f"at the end of the busy window {counts['processing']} points were processing, "
        f"{counts['complete']} complete; p50 {busy.p50_ms:.2f} ms busy, {idle.p50_ms:.2f} ms idle",
    )


def run() -> list[Row]:
    units = calibrate(POINT_SECONDS)
    args = ["--config", CONFIG, "--in-memory", "--executor", "process", "--max-workers", "2"]
    with Server(args) as server, api(server) as client:
        warm = session(client, "warm")
        experiment_seconds(  # both worker processes started and warm
            client,
            warm,
            "warm",
            {"algo_name": "Instant", "dataset_key": DATASET},
            {"kind": "grid", "axes": [{"name": "count", "values": [1, 2, 3, 4]}]},
        )
        machine = machine_speedup(units * 5)
        serial = serial_seconds(client, session(client, "serial"), units, POINTS)
        parallel, _ = experiment_seconds(
            client,
            session(client, "parallel"),
            "work",
            {"algo_name": "Work", "dataset_key": DATASET, "algo_params": {"units": units}},
            {"kind": "grid", "axes": [{"name": "units", "values": [units]}], "repetitions": POINTS},
        )
        polls = polls_during_experiment(server, client, units)
    rows = [
        Row(
            f"E1 experiment of {POINTS} x {POINT_SECONDS} s CPU points, process executor "
            "(2 workers): speed-up over the same runs one at a time",
            serial / parallel,
            "x",
            machine,
            target=1.7,
            on="value",
            note=f"serial {serial:.2f} s, experiment {parallel:.2f} s ({units} work units a point)",
        ),
        polls,
    ]
    return rows + pool_points.rows()


if __name__ == "__main__":
    sys.exit(run_alone(run))
