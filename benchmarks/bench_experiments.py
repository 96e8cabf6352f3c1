"""Creating a 10,000-point experiment, and the first page of its frame (issue 25).

Over HTTP against a real server on SQLite (`--data-path`), the `Instant` algorithm
(`benchmarks.configs`), in one run well under a minute:

- **Creation.** `POST …/experiments` of a random design of `BENCH_EXPERIMENT_POINTS`
  (10,000) points, against the same scenarios made one request at a time, as a
  client loop would: `POST …/scenarios` then `POST …/scenarios/{id}/run` for each
  (an experiment creates *and queues* its points). The one-at-a-time side is timed
  on a sample of `BENCH_EXPERIMENT_SAMPLE` (300) scenarios after a warm-up and
  scaled to the experiment's points (its cost per scenario is flat: each request
  does the same work whatever the session holds). Target ≤ 0.1x. Its create-only
  time (no `run`) is in the note.
- **First page of the frame.** `GET …/experiments/{id}/frame?limit=100` of the
  10,000-point experiment against the whole frame of a 10-point experiment in a
  session of its own (best of `BENCH_EXPERIMENT_READS` reads each, once all their
  points completed). Target ≤ 1.5x.

What profiling showed (pyinstrument, in process, creating 3,000 points on SQLite,
before the change): 5.9 ms a point, of which a count of the session's scenarios
per point (the limit check in `create_scenario`: O(n) each, so O(n^2) in all)
took 32 %, `run_scenario` after `create_scenario` 34 % (a read back, a transition
and a dispatcher wake per point), the insert 16 %, two dataset reads per point 4 %,
and the point's fingerprint (computed for reuse) 8 %. After it (the experiment
checks the limit and reads each dataset version once, and inserts each scenario
already queued, waking the dispatcher per chunk): 2.0 ms a point, of which the
insert (one transaction each; a batch insert would need a store method) is 70 %
and the fingerprint 10 % (its first call pays a one-time scan of the installed
packages). The frame: its rows were built for every point (all the session's
scenarios read, a pandas frame of all of them) before one page was cut (80x the
small frame); then only the page's scenarios were read, by id (a first version
that also filtered on the session let SQLite scan the session's index: 17 ms a
page). That left the first page at 10-15x the small frame: 35 % reading and
parsing the experiment record (its points and scenario ids are 0.5 MB of JSON at
10,000 points, kept in one body), 35 % decoding the page's 100 scenario rows (the
small frame decodes 10), 25 % pandas and the frame's JSON.

Now (schema version 16) the points are rows of their own (`experiment_points`,
keyed by experiment and position): a page is one plain SELECT of a range of that
key, joined to its scenarios' status and KPIs (nothing else of a scenario is read
or decoded), and the frame is built without pandas when its columns are plain
(`algomancy_api/experiment_frame.py`, the same bytes). Profiled in process
(pyinstrument, `experiment_frame` called directly, SQLite, 10,000 points, best of
30): after the split alone the page took 8.4 ms to the small frame's 1.6 ms (page
read 31 %, mostly a connection; decoding 100 whole scenario records 30 %; pandas
28 %); with the joined read and the plain build 0.50 ms to 0.07 ms, of which the
query is 40 %, making the page's point objects 30 % and building the frame 25 %:
all of it grows with the page's rows, none with the experiment's points. Over
HTTP the request's own cost (about 2.3 ms of server CPU on this machine) now
dominates both. Figures, `BENCH_EXPERIMENT_READS=20`, one run each on a machine
loaded 13-17 (`uptime`), before (main at 00ae58e) and after:

| | first page | small frame | ratio | server CPU a read (200 each) |
|-|-|-|-|-|
| before, reads=5 | 60.4 ms | 24.0 ms | 2.52x | (not measured) |
| before, run 1 | 42.5 ms | 22.9 ms | 1.86x | (not measured) |
| before, run 2 | 52.1 ms | 16.3 ms | 3.21x | 16.95 ms / 5.65 ms = 3.00x |
| after, reads=5 | 7.3 ms | 3.1 ms | 2.39x | (not measured) |
| after, run 1 | 8.1 ms | 4.6 ms | 1.76x | (not measured) |
| after, run 2 | 12.6 ms | 5.0 ms | 2.49x | 3.50 ms / 2.35 ms = 1.49x |

The page is 4-8x quicker and the small frame 3-8x; the wall-clock ratio stays
above 1.5x on a loaded machine (best of 20 at a load of 15 on 2 cores still
counts preemptions, which the longer request meets more often), the server's CPU
a read meets it. Creating the 10,000 points is not slower: 12.0-14.9 s before,
12.6-19.0 s after in the same noisy runs, 0.04-0.06x the one-at-a-time loop either
way; the points' inserts (tuples, 1,000 per executemany) cost about 30 ms of CPU
of those seconds.

Batched creation (`Store.add_scenarios`, `experiments/queueing.py`). Profiled in
process (pyinstrument, `create_experiment` of 10,000 points on SQLite, the thread
executor running the points meanwhile, load 8-12): 45 s of wall time for 10 s of
CPU. `add_scenario` (one transaction a point) was 62 % of the wall, most of it
waiting for the write turn behind the workers' claims and completions (13 s) and
committing (8 s); `uuid4` 25 % (each `os.urandom` releases the GIL, and getting it
back waits behind the workers); the points' records and fingerprints 6 %. Each 500
points are now one transaction of a few multi-row INSERTs (scenarios and their
`scenario.created` changes; one step of the database for 500 rows, where an
executemany steps, and releases the GIL, once a row), their ids come from one
`os.urandom` read: 10.0 s of wall, 1.42 s of the request thread's CPU. Then (py-spy
on the server over HTTP) half of what was left was building records: a point's
fields are now built once and its record made once (two `dataclasses.replace` of a
30-field frozen record each cost about what the fingerprint does), and the
answer's counts read the scenarios' statuses alone (`Store.scenario_statuses`;
reading 10,000 scenarios whole cost 0.28 s of CPU, now 0.04 s): 1.02 s of CPU.
Over HTTP, alternating runs of main before the change (ca7228c) and after it:

| `uptime` load | before: create | loop (scaled) | ratio | after: create | loop | ratio |
|-|-|-|-|-|-|-|
| 11.8 / 9.3 | 8.76 s | 96.4 s | 0.09x | 2.22 s | 218.2 s | 0.01x |
| 8.9 / 10.8 | 13.54 s | 307.6 s | 0.04x | 2.12 s | 185.3 s | 0.01x |

(and 3.02 s, 3.94 s, 3.24 s after, at loads 13-16). The loop's figure swings
with the machine's load (69.7 s quiet, when creation took 14.6 s: 0.21x); against
that quiet loop, 2.1-3.9 s is 0.03-0.06x.

The first page, after those runs: per call of the route in process (thread CPU
time, best of 5 x 300, `experiment_frame` called directly), the 100-row page
658 -> 522 us and the 10-point frame 81 -> 72 us, by reading the header on the
page's first row only (repeated on each row its text was a fifth of the query),
comparing the scenario's session in SQL, building the page's points, outcomes
and rows in one pass each without temporary dicts, and typing a column by
whole-column built-ins. Nothing of it grows with the experiment's points (the
memory book's page no longer makes a set of every reused point either). Over
HTTP on this loaded machine the figures are noise around the request's own
cost: wall 2.16x and 1.44x, server CPU a read 2.50/1.40 ms = 1.79x and
2.20/0.95 ms = 2.32x (before, in the same alternating runs: wall 2.88x and
5.32x, CPU 1.90x and 1.50x); earlier runs after: wall 1.08x and 1.03x, CPU
1.34x and 1.89x.

    python -m benchmarks.bench_experiments
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from benchmarks.bench_ops import cpu_seconds
from benchmarks.common import Row, Server, api, env_int, run_alone
from benchmarks.configs import DATASET, instant_config

POINTS = env_int("BENCH_EXPERIMENT_POINTS", 10_000)
SAMPLE = env_int("BENCH_EXPERIMENT_SAMPLE", 300)
WARMUP = env_int("BENCH_EXPERIMENT_WARMUP", 20)
READS = env_int("BENCH_EXPERIMENT_READS", 5)
CPU_READS = env_int("BENCH_EXPERIMENT_CPU_READS", 200)
TIMEOUT = 300.0


def config() -> dict[str, Any]:
    """`instant_config` with room for the experiment and the sample in one session."""
    return instant_config() | {
        "max_experiment_scenarios": POINTS,
        "max_scenarios_per_session": POINTS + SAMPLE + WARMUP + 100,
    }


def one_at_a_time(client: httpx.Client, prefix: str, count: int, *, run: bool) -> float:
    """Seconds to create (and with `run`, queue) `count` scenarios, one request each."""
    start = time.perf_counter()
    for i in range(count):
        body = {
            "tag": f"{prefix}{i}",
            "dataset_key": DATASET,
            "algo_name": "Instant",
            "algo_params": {"count": i % 1000},
        }
        created = client.post("/sessions/main/scenarios", json=body)
        created.raise_for_status()
        if run:
            client.post(f"/sessions/main/scenarios/{created.json()['id']}/run").raise_for_status()
    return time.perf_counter() - start


def experiment(client: httpx.Client, session: str, name: str, points: int) -> dict[str, Any]:
    body = {
        "name": name,
        "base": {"algo_name": "Instant", "dataset_key": DATASET},
        "design": {"kind": "random", "n": points, "seed": 1, "axes": [{"name": "count"}]},
    }
    answer = client.post(f"/sessions/{session}/experiments", json=body)
    if answer.status_code != 201:
        raise RuntimeError(f"creating experiment {name}: {answer.status_code} {answer.text}")
    created: dict[str, Any] = answer.json()
    return created


def wait_complete(client: httpx.Client, session: str, experiment_id: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while client.get(f"/sessions/{session}/experiments/{experiment_id}").json()["status"] != (
        "complete"
    ):
        if time.monotonic() > deadline:
            raise TimeoutError("the experiment did not complete in time")
        time.sleep(0.2)


def best_read(client: httpx.Client, path: str) -> float:
    seconds = []
    for _ in range(READS):
        start = time.perf_counter()
        client.get(path).raise_for_status()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def cpu_read(client: httpx.Client, pid: int, path: str) -> float:
    """The server's CPU seconds a read of `path`, over `CPU_READS` reads (steadier
    than wall time on a loaded machine: a longer request is more often preempted)."""
    start = cpu_seconds(pid)
    for _ in range(CPU_READS):
        client.get(path).raise_for_status()
    return (cpu_seconds(pid) - start) / CPU_READS


def run() -> list[Row]:
    with (
        Server(["--config", "benchmarks.bench_experiments:config", "--data-path", "state"]) as s,
        api(s) as client,
    ):
        one_at_a_time(client, "w", WARMUP, run=True)
        experiment(client, "main", "warm", 10)
        created_only = one_at_a_time(client, "c", SAMPLE, run=False) / SAMPLE * POINTS
        each = one_at_a_time(client, "r", SAMPLE, run=True) / SAMPLE * POINTS
        start = time.perf_counter()
        big = experiment(client, "main", "big", POINTS)
        together = time.perf_counter() - start
        other = client.post("/sessions", json={"display_name": "small"})
        other.raise_for_status()
        small_session = other.json()["session"]["id"]
        small = experiment(client, small_session, "small", 10)
        wait_complete(client, "main", big["id"])
        wait_complete(client, small_session, small["id"])
        big_frame = f"/sessions/main/experiments/{big['id']}/frame"
        first_page = best_read(client, f"{big_frame}?limit=100")
        small_frame = f"/sessions/{small_session}/experiments/{small['id']}/frame"
        whole_small = best_read(client, small_frame)
        cpu_page = cpu_read(client, s.pid, f"{big_frame}?limit=100")
        cpu_small = cpu_read(client, s.pid, small_frame)
    return [
        Row(
            f"25 create a {POINTS}-point experiment / one request per scenario",
            together,
            "s",
            each,
            0.1,
            op="<=",
            note=f"one at a time: create + run, {SAMPLE} timed and scaled to {POINTS}; "
            f"create only (no run) would take {created_only:.1f} s; SQLite over HTTP",
        ),
        Row(
            f"25 first page (100 rows) of a {POINTS}-point experiment's frame / a 10-point one",
            first_page * 1e3,
            "ms",
            whole_small * 1e3,
            1.5,
            op="<=",
            note=f"best of {READS} reads each, all points complete; the 10-point experiment "
            f"in a session of its own; server CPU a read (mean of {CPU_READS}): "
            f"{cpu_page * 1e3:.2f} ms / {cpu_small * 1e3:.2f} ms = "
            f"{cpu_page / cpu_small:.2f}x",
        ),
    ]


if __name__ == "__main__":
    raise SystemExit(run_alone(run))
