"""Parts (b) and (c) of `benchmarks/bench_parallel_points.py` (which prints their rows):
an experiment of trivial points through a server against the same calls through a
bare pool, on the process executor (E2) and on Dask (E3); and the server helpers
both modules use (the benchmarks' config, sessions, an experiment's timing).

(b) 2,000 points of `Instant` (returns at once) as an experiment, from its `POST`
to `complete`, against 2,000 `submit`s of the same trivial call to a warm
`ProcessPoolExecutor(2)`, all awaited. Ratio = pool seconds / experiment seconds
(the experiment's rate over the pool's); target ≥ 0.5x. The pool's processes run
at the priority of the executor's workers (`lower_priority(WORKER_NICENESS)`: nice
19 and `SCHED_IDLE`, which keeps the API responsive), so that the ratio compares
the framework, not the priority: on this shared machine (load 7 to 14 from other
work) a pool at the server's priority was 1.5x to 4x faster than one at the
workers', and the note gives its time too.

(c) `BENCH_DASK_POINTS` (default 2,000, the issue's count) such points on the
Dask executor (a `LocalCluster` of 2 single-threaded worker processes) against a
bare `client.map` of the same trivial call on that cluster; rates compared, target
≥ 0.5x. Left out when Dask is not installed or `BENCH_DASK=0`.

Before (issue 25's Dask work): one Dask task per run, with three scheduler-side
objects each. Counted on the scheduler (its handlers wrapped, 200 trivial runs
straight through the executor, no server): 11 round trips per run
(`queue_create` 2, `queue_put` 2, `queue_get` 2.1, `event_is_set`, `event_set`,
`event_clear`, `gather` 1 each), and the executor's monitor drained every running
task's queue at each look. py-spy on the server showed it idle (waiting on those
round trips); the workers too. 0.12x on a quiet machine (60 against 483 points/s),
0.07x to 0.17x on this shared one.

Now (`executors/dask.py`): the executor takes runs ahead (`prefetch`, by the
durations measured: for trivial runs 63 per worker, for slow ones 1) into a local
queue, keeps at most `max_workers` tasks in flight, and each task runs a batch of
queued runs in order (about `BATCH_SECONDS` = 0.1 s of them, at most `MAX_BATCH` =
32; one run for slow points, so a 100 x 0.2 s experiment still uses both workers). A
run's start, progress, reports and end go back as structured events (`log_event`,
one per run, pushed by the scheduler); the outcomes with the task's result. Per
task, 5 round trips (an `Event` "started" looked at and set by the worker, cleared
by the server; the cancel flag looked at by the worker at the end; the `gather`); a
cancel flag only once a run of the task is cancelled. Counted the same way (before
the end-of-task look, so 4 a task): 0.16 round trips a run with batches of 27 on
average (0.56 while the batches were 7). Next, py-spy on a worker (5 s at 100 Hz,
during 2,000 runs): two thirds of its busy time in the task went to unpickling each
run's copy of the dataset (pandas' Arrow arrays' `__setstate__`, 1.2 ms for a 3-row
table), a fifth to three `log_event`s per run; now a worker unpickles a dataset once
and gives each run a deep copy (0.4 ms), and a run's events go in one `log_event`
(its start, with the previous run's last progress and end). Straight through the
executor: 13.7 before, 24 with batches, 217 points a second with both (bare map 82,
171: load 10 to 15).

Before and after in turn, same machine, load 11 to 15 (the before copy run from a
`git archive` of the previous commit): 300 points, 0.07x (22 against 321/s) before
and 0.96x (254 against 266/s) after; 500 points, 0.057x (7.9 against 139/s) before
and 1.82x (423 against 233/s) after. The whole benchmark
(`BENCH_TRIVIAL_POINTS=200 BENCH_POINTS=20`): 0.15x before (8 against 54/s, 500
points); after, 3.48x (149 against 43/s, 500 points, load 15 to 19) and 2.84x
(270 against 95/s, 2,000 points, load 9 to 12); E3 alone at 2,000 points, 4.3x
(729 against 170/s, load 11 to 13). The bare map suffers most from the
load: each of its tasks pays the scheduler's and the worker's per-task cost, which
a batch pays once. Where the rest goes now: per run,
the worker's deep copy of the dataset, unpickling the request, pickling the
outcome and one `log_event`; on the server, recording each outcome and claiming
the next point (the dispatcher, as on the process executor); per task, the 5 round
trips and Dask's own scheduling, shared by the batch.

Where (b)'s time went (py-spy on the server during (b), `py-spy record -r 200
--pid <server pid> -f raw`, 2 cores with load about 7 from other work), before
issue 25's throughput work: the experiment took 3.8 to 4.6 s, its `POST` 1.4 to 2.2
of them; 0.05x to 0.07x of a pool at the server's priority.

- Creating the points (the `POST`): the memory store checked each new tag against
  every scenario of the session (`name_key` of each: quadratic, 2 million calls for
  2,000 points), then per point the checks, lineage and fingerprint, an insert, a
  change-feed entry and a queue transition. Now the tag is looked up in an index
  of the session's tag keys: the `POST` went from 1.2-2.8 s to 0.3-0.8 s.
- In the slot threads (the rest): a third of their busy time was logging, a line
  at each run's start and end (the handler's lock, a write each); an experiment's
  points now log those at DEBUG. A tenth was pickling the request with its dataset
  (pandas' `__getstate__`) for each run; a worker now keeps the last dataset sent
  to it (`RunRequest.data_key`: dataset version, digest and data-parameter values;
  it unpickles a fresh copy per run), so a dataset crosses the pipe once per
  worker. An eighth was writing `Instant`'s `ctx.progress(1.0)`, superseded by the
  run's end a moment later; a bare progress number whose next message is waiting
  and is a success is no longer written. A `waitpid` after each run is gone too.
- Each worker idled from the end of one run until its slot thread had recorded the
  outcome, claimed the next point and sent it, while the bare pool always has the
  next call queued. Now the process executor takes one run per worker beyond its
  capacity (`prefetch`): the dispatcher claims points ahead of a free worker
  (`Store.claim_many`, then one at a time: experiments' points only, nothing while a
  session's own scenario is next), and a slot sends the queued run to its worker
  before it records the last one's outcome.

After (same machine, load 11 to 14, before and after in turn, four pairs): the
experiment took 2.1 to 2.4 s (once 5.1 s) against 3.1 to 9.0 s before, its `POST`
0.55 to 0.83 s against 0.65 to 2.8 s; against a pool at the server's priority
0.23x to 0.24x (0.04x to 0.15x before); against the pool at the workers' priority
0.1x to 1.3x (0.07x to 0.13x before): the load swings that pool's own time 0.3 to
3.0 s from one run to the next, so the ratio of one run is what counts, and it
moves with the load. On a quieter machine (load 4) the pool is fast at either
priority: the experiment took 1.8 and 2.3 s against 4.2 s before, 0.15x and 0.09x
of the plain pool (0.06x before), 0.17x and 0.19x of the pool at the workers'
priority (0.17x before). (c), on Dask, is unchanged: 0.03x to 0.09x (11 to 16 points
a second). Where the rest went then: the
server was idle 85% of the time during the runs (py-spy: its slot threads waited on
the pipe for their worker), and so were the workers (70% in `recv_bytes`, waiting
for their next run): one run in flight per worker, a round trip per run, each
wake-up of a worker at `SCHED_IDLE` on a loaded machine a wait for a free core. Of
a worker's own time per point, 60% was unpickling its copy of the dataset.

Issue 25's second round (py-spy on the server and on each worker, ``py-spy record
-r 200 --pid <pid> -f raw --idle``; load 10 to 16):

- Several quick runs in flight per worker (`ProcessExecutor.depth`): a slot sends a
  worker as many runs as take about 50 ms together (by the slowest of the last 8,
  measured in the worker less the time it waited for a CPU: on this machine a
  trivial run's wall time jumps to 50 ms when the worker is preempted), at most 32,
  in one message; they wait in its pipe as the bare pool's calls do, and the
  dispatcher claims as many ahead (`prefetch` = workers x depth). Slow runs go one
  at a time, as before (E1 unchanged). The executor alone (no server: 2,000
  `submit`s kept `capacity + prefetch` ahead) went from about 400-800 to 800-1,700
  points a second.
- A worker's copy of the dataset for each run is a deep copy of one unpickled once
  (130 against 410 µs here), unless an object column holds something mutable.
- A trivial run sends one message back, not two: its bare `ctx.progress(1.0)` is
  held back like later reports and dropped before a success.

Before and after, in turn (the experiment part of this benchmark, 2,000 points):
load 11, 2.22 s and 2.46 s before, 1.34 s and 1.77 s after (0.21x and 0.43x of the
pool at the workers' priority before, 0.53x and 0.56x after; after its `POST`
900-1,010 points/s before, 1,360-1,860 after); load 15, 3.78 s and 4.15 s before,
1.43 s and 1.98 s after (0.13x and 0.14x before, 0.53x and 0.34x after; after the
`POST` 530-590 points/s before, 1,280-1,780 after). A whole run of this benchmark at
load 10 to 15: E2 0.39x (the experiment 2.41 s, its `POST` 0.43 s), E1 1.52x with
the machine's own 2-process speed-up at 1.10x. On a quieter machine (load 4 to 7)
the bare pool is fast (5,700 to 14,400 calls a second) and the ratio falls with it:
a whole run gave E2 0.12x (1,669 points/s, 2,012 after the `POST`; the pool 0.139
s) and E1 2.32x; pairs in turn at load 4, 1.52 s and 3.30 s before, 1.20 s and
1.69 s after (0.15x and 0.11x before, 0.29x and 0.50x after). There the executor
alone (2,000 `submit`s, no server) does 3,200 to 3,400 runs a second: a worker's
own work per trivial run (about 150 µs, two thirds of it the copy of the dataset)
and the server's per-point work (claim, start, record: about a third of the rate
with the server against the executor alone) bound it, far from the pool's 70 µs a
call.

Where the rest went then: the `POST` (creating the points, helper work elsewhere) is
a sixth to a quarter of the experiment. During the runs the server's slot threads
are busy about a tenth of the time (reading outcomes, sending runs; the dispatcher's
claim, start and record of each point run in them: a store write each, with its
announcements); the rest of the server's time is the client's polls and the
`POST`. The workers are busy about half the time: half of it the deep copy of the
dataset, then unpickling the request, the run itself and pickling its outcome. The
other half they wait in `recv_bytes` for their next points: with a 2-core machine
at load 10 or more, a worker at `SCHED_IDLE` gets a core only when nothing else
wants one, and the server's per-point work competes for the same cores. Not done:
batch claims and batch completes in the stores (one transaction for several): on
the memory store the claim and the complete are a tenth of the slot threads' busy
time, so the profile does not support them yet; on SQLite and PostgreSQL they would
matter more (helper runwrites works on the writes per scenario).
Issue 25's third round. The figure to watch is CPU per point, read from `/proc`
(`schedstat` of the server's threads and of the workers) around the experiment:
at load 5 to 11 from other work the ratio of one run moves 0.2x to 1.5x with the
same code, as the bare pool's own time does (0.3 to 2.5 s). py-spy (``--idle``, and
per-thread CPU from ``/proc/<pid>/task/*/schedstat``) showed, before: the server
about 350 µs of CPU per point over HTTP (its two slot threads 225 of them), the
workers about 100 µs each per point of the experiment (a deep copy of the dataset a
third of their busy time, the `done` message a fifth, `RunClock` a tenth); both
sides idle much of the time, each waiting for the other, the workers also for a
CPU (run-queue wait 0.9 s each in a 1.1 to 1.4 s experiment).

- A run's copy of the dataset a worker keeps (`executors/run_data.py`, `run_copy`):
  its frames are shallow copies (pandas >= 3 has copy-on-write always on: what a
  run changes in a frame, in place or not, stays in its copy), its other attributes
  deep copies unless immutable (a `datetime`'s deep copy alone took 13 µs). 28
  against 61 µs for this benchmark's dataset. The Dask worker uses it too (and now
  unpickles afresh, as the process worker did, data whose object columns hold
  lists: a deep copy shared them between runs).
- A slot and a worker look at their pipe with one `select.poll` kept per pipe
  (`conn_poller`), not `Connection.poll`'s new selector per look (8.6 against 0.9
  µs).
- A busy worker's pipe is topped up once half of its `depth` has run, a batch per
  message, not a message per run (`Slots._top_up`).
- (Taken out again, 2026-12-06.) A worker sent the ends of its quick runs together
  (`Outbox`: a run's `done` held while a next run waited). Removing it did not show:
  seven runs each way of E2 alone, in turn, quiet machine, gave 0.34x to 0.69x
  (mean 0.50x) with it and 0.44x to 0.65x (mean 0.54x) without, 4,590-6,600 against
  4,090-6,070 points a second after the `POST`. And a held end waited for the
  whole next run, so a completed point was reported late, and failed if the next
  run killed the worker.

Before and after, in turn (a `git archive` of each commit), in process (a
`SessionManager` and the process executor, no HTTP: the dispatcher's and the
executor's own cost), 2,000 `Instant` points, CPU per point, load 6.5 to 7.5, three
pairs: the server 250-279 µs before, 117-128 after; the workers (both, per point)
159-232 µs before, 63-90 after: 2.3x less CPU per point in all. Over HTTP (this
benchmark's E2 server, `/proc` around the experiment), three pairs at load 5 to
9: the server 0.69-0.86 s of CPU before, 0.36-0.77 after (the `POST` and the
client's polls included); the workers 0.36-0.51 s before, 0.13-0.20 after; E2
0.25x, 0.51x and 0.22x before, 1.52x (the experiment 0.52 s: 3,900 points a
second), 0.16x and 0.52x after: the ratio of one run still moves with the load,
since a worker at `SCHED_IDLE` runs only when nothing else wants a core. E2 alone
(this module's `trivial_experiment` and `pool_seconds`), six pairs in turn at load
4 to 5: 0.27x, 0.59x, 0.34x, 0.42x, 0.39x and 0.24x before (the experiment 0.89
to 1.17 s, after its `POST` 1,820 to 2,570 points a second), 0.56x, 0.54x, 0.54x,
0.71x, 0.64x and 0.89x after (0.45 to 0.97 s, 2,460 to 5,380 points a second; the
bare pool 0.28 to 0.60 s in both).

Where the rest goes now: during the runs the server's slot threads wait for their
workers most of the time (`conn_poller`); their own work is the dispatcher's per
point (claim, start, record the outcome: a store write each, with announcements
and observers), which batch claims and completes would share (not done). A
worker's busy time is a third the copy of the dataset (pandas' `copy(deep=False)`
of a frame is 15 µs, a deep copy of a 3-row frame 9 µs: copying a table only when a
run reads it would need `DataSource` to allow that), then unpickling the request,
the run and pickling its outcome. Polls: a `GET …/experiments/{id}` of 2,000 points
costs the server 3 ms of CPU (its counts are read from every point), and this
benchmark polls every 20 ms: a tenth of a second or more of the server's CPU in a
1 to 2 s experiment, which the bare pool does not pay.

Issue 25's fourth round: the `POST` (creating the 2,000 points), a fifth to nearly
half of the experiment on a quiet machine (0.08 to 0.19 s). py-spy (``--gil``) of
`create_experiment` in process (thread executor, 2,000 points): each point's fields
through a draft `ScenarioRecord` and `run_lineage` (15 µs a point, timeit), each
point's values checked as a whole fresh parameter set (5 µs), a change-feed append
per scenario under the feed's lock (contended by the running points' own appends),
a `uuid.UUID` per id (3 µs); then the records themselves (a frozen 30-field
record is 6 µs to make, left as it is) and the garbage collector (about 40 young
collections a `POST`, 6 to 9 ms in the server). Now (`experiments/template.py`) the
algorithm's version and the lineage's installed versions are read once and a
point's fields written directly (4.2 µs), the base values are checked once and a
point's own values alone (2.2 µs, when the parameter set checks each value on its
own), a chunk's `scenario.created` changes go to the feed in one append and one
wake (`Store.append_changes`; followers still get one change per scenario), and
the ids come from one hex string (0.8 µs each). Hashing the fingerprint's common
prefix once was tried and was slower (3.7 against 2.4 µs).

Before and after in turn (a `git archive` of the previous commit), load 4 to 7
from other work: the `POST`'s own CPU in the server (`time.thread_time` around
`create_experiment`, 6 experiments a server, three servers each) 62-141 ms before
(medians 76, 80, 84), 39-118 ms after (medians 48, 49, 59); its wall time in the
server, median, 217, 303 and 160 ms before, 111, 133 and 143 ms after. In process with
nothing running: 59-60 ms before, 38-42 ms after. E2 alone, three pairs at load 4
to 6 (the bare pool 0.24 to 0.46 s): 0.47x, 0.63x, 0.30x before (the `POST` 0.134,
0.099, 0.074 s), 0.78x, 0.41x, 0.46x after (0.063, 0.115, 0.094 s): on this
loaded machine the ratio of one run still moves with the load more than with the
`POST`. Where the rest of the `POST` goes: making the records (a third of its CPU),
the young collections, and, once its first 500 points are queued, the slot threads
recording the points that already run (the same GIL).

After the `POST`, py-spy (``--gil``) of the server's threads during E2's points in
process: about a twentieth of their time was pickling each run's request and
loading its outcome (the frozen dataclasses' `__getstate__` and `__setstate__`,
which list their fields again each time). They now pickle as their class called
with their fields (`executors/base.py`): a request 2.2 and 2.6 µs to dump and load
against 3.5 and 3.7, an outcome 1.9 and 1.6 against 2.6 and 2.6, in the server and
again in the worker. The server's CPU per point in process (`time.process_time`
around five 2,000-point experiments with their 20 ms polls, the `POST` included),
in turn at load 3 to 5: medians 235 and 253 µs before this round, 214 and 201
after. E2 alone again, three more pairs at load 3 to 4 (the bare pool 0.29 to 0.97 s
from one run to the next): 0.71x, 0.68x, 0.28x before (the `POST` 0.176, 0.126,
0.185 s), 0.36x, 0.68x, 0.35x after (0.066, 0.128, 0.057 s). The ratio of one run is
still the load's more than the code's; the `POST` and the CPU per point are the
figures that moved. The polls' summary (the experiment's counts, which the `POST`'s
answer reads too) counts its points' statuses in one `Counter` pass: 0.31 against
1.29 ms at 2,000 points (timeit, best of 5), for each 20 ms poll of this benchmark.

Issue 25's fifth round (E2 after the `POST`, helper e2points; not merged). py-spy
misled here: ``--gil`` gave the slot threads a sixth of the event loop's samples,
``--idle`` counted them busy in `Condition.wait` (runnable, waiting for a core at load
5 to 9). Per-thread CPU from ``/proc/<pid>/task/*/stat`` around the experiment is the
figure: of the server's 220 to 260 µs of CPU per point over HTTP, the two slot
threads take 170 to 190, the event loop's polls 20 to 30, the `POST`'s thread 30 to
40. In the slot threads, per point: the dispatcher's `_on_done` 130 to 175 µs
(recording the outcome 50 to 70: the store's move and its announcements; claiming and
starting the next 75 to 95), reading the worker's answer 40. Tried and not kept: a
`ScenarioRecord.copy` that sets slots itself instead of `dataclasses.replace` (3.4
against 8.2 µs a copy) and `plan_transition`'s fixed part cached per (target,
source): a `Lifecycle`'s claim and complete fell from 44-47 to 33 µs a point in
process, but over HTTP the ~10 µs of ~250 was inside the noise (server CPU per point
265-318 µs before, 250-342 after, four pairs at load 7 to 9), so the plain code
stays. The rest of E2's gap is this per-point Python in the slot threads.

Issue 25's sixth round (helper e2batch): the per-point work in batches. Points are
claimed ahead once half of `prefetch` is free, all the room in one store write
(`Store.claim_many`: one lock in memory, one transaction in SQL) and handed to the
executor together (`submit_many`); after a run's outcome a slot takes those of the
next runs in its worker's pipe that come within `GATHER_SECONDS` (2 ms) and hands
them on in one call (`DoneTogether`), recorded in one write (`apply_transitions`,
`Lifecycle.complete_many`, one change-feed append). Counted in process (2,000
points), batching only what was waiting gave outcomes 1.2 to 1.4 a call and claims
1 a call (a worker at `SCHED_IDLE` runs while the server waits, so outcomes
trickle) and did not show: the slot threads' CPU per point (`schedstat`, medians of
12, load 9 to 10) 235 µs before, 263 after. Claiming in halves: 195 (claims of 32
to 64); with the 2 ms gather too (outcomes 8 to 16 a call): 193 in process, and
over HTTP the server's CPU per point 205 to 290 µs against 300 to 330 without it
(325 to 430 before, three runs each). Kept: both.

Before and after in turn (a `git archive` of main, load 3 to 4): in process (a
`SessionManager`, 2,000 points, four pairs of four experiments) the slot threads'
CPU per point, median 208 µs before (169 to 233), 146 after (124 to 184); the
process's CPU after the `POST` 214 and 148; the experiment 0.83 and 0.73 s. E2
alone over HTTP, four pairs (per-thread `schedstat` of the server, thread names
from ``py-spy dump``): the slot threads 209 to 246 µs a point before, 143 to 238
after (medians 228 and 166); the server 276 to 330 before, 197 to 336 after; the
experiment 0.87 to 1.10 s before, 0.69 to 1.08 after; the ratio 0.37x to 0.55x
before, 0.40x to 0.48x after, the bare pool's own time 0.32 to 0.50 s from one
run to the next: the CPU per point moved, the ratio of one run still moves with
the pool. py-spy of the server (E2 after, three experiments): of the slot threads'
samples outside waits, a third in `Connection._recv` and a tenth in `waitpid` and
`send` (the GIL taken back after a system call, not CPU: the event loop and the
`POST`'s thread hold it), a third in the dispatcher's `_on_done_many` (about 47 µs a
point: claiming and starting 31, of it 9 the observers' `run_started`, mostly the
metrics' `labels`; recording 12). Still not reliable at 0.5x: what is left is per message
(reading a worker's answer, sending runs) and the GIL shared with the HTTP side.

At the end of that stop, on the quiet machine (load 0.3-2.5, nothing else running):
`python -m benchmarks bench_parallel_points` gave E2 0.59x (the experiment 0.53 s, its
`POST` 0.08 s, the bare pool 0.309 s), and E2 alone (`rows()` with `BENCH_DASK=0`)
0.70x, 0.64x, 0.50x, 0.76x and 0.84x (the bare pool 0.26-0.68 s); once 0.25x, while a
`bench_scenarios` run shared the cores. Met in every quiet run.

    python -m benchmarks.bench_parallel_points
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import time
from typing import Any

import httpx

from algomancy_core.executors.process import WORKER_NICENESS, lower_priority
from benchmarks.bench_parallel import dask_cluster
from benchmarks.common import Row, Server, api, env_int
from benchmarks.configs import Instant, Work, initial_datasets

TRIVIAL_POINTS = env_int("BENCH_TRIVIAL_POINTS", 2000)
DASK_POINTS = env_int("BENCH_DASK_POINTS", 2000)
CONFIG = "benchmarks.pool_points:config"
DATASET = "Master data"


def config() -> dict[str, Any]:
    return {
        "title": "Algomancy benchmarks: experiments",
        "algorithms": [Instant, Work],
        "initial_datasets": initial_datasets,
        "max_workers": 2,
        "max_experiment_scenarios": 10_000,
    }


def session(client: httpx.Client, name: str) -> str:
    client.post("/sessions", json={"display_name": name}).raise_for_status()
    return name


def experiment_seconds(
    client: httpx.Client, sid: str, name: str, base: dict[str, Any], design: dict[str, Any]
) -> tuple[float, float]:
    """Create the experiment and wait for it: (seconds to complete, seconds the POST
    took; points start running during it)."""
    start = time.perf_counter()
    answer = client.post(
        f"/sessions/{sid}/experiments", json={"name": name, "base": base, "design": design}
    )
    answer.raise_for_status()
    posted = time.perf_counter() - start
    url = f"/sessions/{sid}/experiments/{answer.json()['id']}"
    deadline = time.monotonic() + 300
    while True:
        body = client.get(url).json()
        if body["counts"]["failed"]:
            raise RuntimeError(f"experiment {name}: points failed: {body['counts']}")
        if body["status"] == "complete":
            return time.perf_counter() - start, posted
        if time.monotonic() > deadline:
            raise TimeoutError(f"experiment {name} did not complete: {body['counts']}")
        time.sleep(0.02)


def trivial(count: int) -> dict[str, int]:
    """The bare pool's call: what `Instant` does, without the framework."""
    return {"count": count}


def pool_seconds(count: int, niceness: int = WORKER_NICENESS) -> float:
    """`count` trivial calls through a warm bare `ProcessPoolExecutor` of 2, whose
    processes run at the executor's workers' priority (`niceness`: 0 for the
    server's)."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        2, mp_context=context, initializer=lower_priority, initargs=(niceness,)
    ) as pool:
        list(pool.map(trivial, [0, 1]))  # both processes started
        start = time.perf_counter()
        futures = [pool.submit(trivial, n) for n in range(count)]
        for future in futures:
            future.result()
        return time.perf_counter() - start


def trivial_design(points: int) -> dict[str, Any]:
    """A grid over `count` (0 to 999), repeated: `points` points, rounded to whole
    thousands above 1,000."""
    repetitions, values = divmod(points, 1000)
    design: dict[str, Any] = {
        "kind": "grid",
        "axes": [{"name": "count", "values": list(range(1000 if repetitions else values))}],
    }
    if repetitions > 1:
        design["repetitions"] = repetitions
    return design


def trivial_row(
    label: str,
    design: dict[str, Any],
    many: float,
    posted: float,
    bare: float,
    against: str,
    more: str = "",
) -> Row:
    points = len(design["axes"][0]["values"]) * int(design.get("repetitions", 1))
    return Row(
        f"{label} experiment of {points} trivial points: points a second, against {against}",
        points / many,
        "/s",
        points / bare,
        target=0.5,
        note=f"experiment {many:.2f} s (its POST, creating the points: {posted:.2f} s; "
        f"after it {points / max(many - posted, 1e-9):.0f} points/s), bare {bare:.3f} s{more}",
    )


def trivial_experiment(args: list[str], design: dict[str, Any]) -> tuple[float, float]:
    """The trivial experiment on a server started with `args`: (seconds, POST seconds)."""
    base = {"algo_name": "Instant", "dataset_key": DATASET}
    with Server(["--config", CONFIG, "--in-memory", *args]) as server, api(server) as client:
        warm = {"kind": "grid", "axes": [{"name": "count", "values": [1, 2, 3, 4]}]}
        experiment_seconds(client, session(client, "warm"), "warm", base, warm)
        return experiment_seconds(client, session(client, "trivial"), "trivial", base, design)


def dask_rows(design: dict[str, Any]) -> list[Row]:
    """(c): the experiment on Dask against a bare `client.map` on the same cluster."""
    from distributed import Client

    points = len(design["axes"][0]["values"]) * int(design.get("repetitions", 1))
    with dask_cluster() as address:
        args = ["--executor", "dask", "--dask-address", address, "--max-workers", "2"]
        many, posted = trivial_experiment(args, design)
        with Client(address) as client:
            client.gather(client.map(trivial, [0, 1], pure=False))  # warm
            start = time.perf_counter()
            client.gather(client.map(trivial, range(points), pure=False))
            bare = time.perf_counter() - start
    return [trivial_row("E3 Dask (2 workers):", design, many, posted, bare, "a bare client.map")]


def rows() -> list[Row]:
    """E2, then E3 unless `BENCH_DASK=0`."""
    design = trivial_design(TRIVIAL_POINTS)
    args = ["--executor", "process", "--max-workers", "2"]
    many, posted = trivial_experiment(args, design)
    count = len(design["axes"][0]["values"]) * int(design.get("repetitions", 1))
    bare, plain = pool_seconds(count), pool_seconds(count, niceness=0)
    out = [
        trivial_row(
            "E2 process executor (2 workers):",
            design,
            many,
            posted,
            bare,
            "a bare ProcessPoolExecutor(2) at the workers' priority",
            f"; at the server's priority the pool takes {plain:.3f} s",
        )
    ]
    if os.environ.get("BENCH_DASK", "1") != "0":
        try:
            out += dask_rows(trivial_design(DASK_POINTS))
        except Exception as exc:  # Dask is optional: say why, keep the other figures
            out.append(Row("E3 Dask executor", float("nan"), note=f"failed: {exc!r}"))
    return out
