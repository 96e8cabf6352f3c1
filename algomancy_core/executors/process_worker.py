"""The worker process side of `ProcessExecutor`: the loop each worker process runs
(`worker_main`), how a run travels to it (`dump_job`, `load_job`, `DataCache`: a
dataset once per worker, a copy of it for each run, in `run_data`) and how its
outcome and reports travel back (`ProgressRelay`, `dump_outcome`, `load_outcome`;
the Dask executor uses them too).
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from algomancy_core.algorithm import ProgressCallback, RunContext
from algomancy_core.executors.base import RunOutcome, RunRequest, execute
from algomancy_core.executors.run_data import DataCache

#: A worker sends at most one progress report per this many seconds (the latest wins).
PROGRESS_INTERVAL = 0.02
#: How much lower than the server's the workers' CPU priority is, by default.
WORKER_NICENESS = 19


ReportBatch = list[tuple[int, float]]


class ProgressRelay:
    """Coalesces progress reports: sends at most one per `interval`, keeping the latest.
    Batches intermediate values (`report`): every one is sent, in order, in batches
    of at most one per `interval` (`send_reports`).

    A report held back is sent with the next one that goes out, or by `flush()`
    before the outcome, so the last report always arrives and order is kept.
    `hold_first`: the first report, too, waits `interval` from now (a run that ends
    sooner sends its last report with its end, or none: `flush(success=True)`).
    """

    def __init__(
        self,
        send: ProgressCallback,
        interval: float = PROGRESS_INTERVAL,
        send_reports: Callable[[ReportBatch], None] | None = None,
        hold_first: bool = False,
    ) -> None:
        self._send = send
        self._send_reports = send_reports
        self._interval = interval
        self._sent_at = time.monotonic() if hold_first else float("-inf")
        self._pending: tuple[float, str | None] | None = None
        self._reports: ReportBatch = []
        self._reports_sent_at = float("-inf")

    def __call__(self, progress: float, message: str | None) -> None:
        now = time.monotonic()
        if now - self._sent_at < self._interval:
            self._pending = (progress, message)
            return
        self._pending = None
        self._sent_at = now
        self._send(progress, message)
        if self._reports:
            self._flush_reports(now)

    def report(self, step: int, value: float) -> None:
        """One intermediate value (`RunContext.report`), sent in a batch."""
        self._reports.append((step, value))
        now = time.monotonic()
        if now - self._reports_sent_at >= self._interval:
            self._flush_reports(now)

    def _flush_reports(self, now: float) -> None:
        batch, self._reports = self._reports, []
        self._reports_sent_at = now
        if self._send_reports is not None:
            self._send_reports(batch)

    def flush(self, success: bool = False) -> None:
        """Send what is held back; before a `success`, not a bare progress number
        (the run's end writes progress 1.0: the server would drop it)."""
        if self._pending is not None:
            progress, message = self._pending
            self._pending = None
            if not (success and message is None):
                self._send(progress, message)
        if self._reports:
            self._flush_reports(time.monotonic())


def dump_outcome(outcome: RunOutcome) -> bytes:
    """Pickle an outcome; one whose result will not pickle becomes an error outcome."""
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        return pickle.dumps(
            RunOutcome(
                error=f"the result cannot be sent back from the worker: {type(exc).__name__}: {exc}"
            ),
            protocol=pickle.HIGHEST_PROTOCOL,
        )


def load_outcome(payload: bytes) -> RunOutcome:
    try:
        outcome = pickle.loads(payload)
    except Exception as exc:
        return RunOutcome(error=f"the result cannot be loaded: {type(exc).__name__}: {exc}")
    if not isinstance(outcome, RunOutcome):
        return RunOutcome(error=f"the worker sent {type(outcome).__name__}, not a RunOutcome")
    return outcome


def dump_job(request: RunRequest, held: str | None) -> tuple[bytes, bool]:
    """The message that sends `request` to a worker holding the data of key `held`;
    and whether it carries the data (which the worker keeps after it).

    The request is pickled with its data replaced by its key (`persistent_id`), and
    the data pickled beside it only when the worker does not hold it yet. Pickling a
    dataset with each run was a tenth of the server's time per trivial point (pandas
    columns' `__getstate__`), in the thread that hands the worker its next run."""
    key, data = request.data_key, request.data
    job: tuple[bytes, str | None, bytes | None]
    if key is None:
        job = (pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL), None, None)
        return pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL), False
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.persistent_id = lambda obj: key if obj is data else None  # type: ignore[method-assign]
    pickler.dump(request)
    blob = None if key == held else pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    job = (buffer.getvalue(), key, blob)
    return pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL), blob is not None


def load_job(payload: bytes, cache: DataCache) -> RunRequest:
    """The request `dump_job` sent; its data from `cache` (kept there when sent)."""
    request_bytes, key, blob = pickle.loads(payload)
    if blob is not None:
        cache.keep(key, blob)
    unpickler = pickle.Unpickler(io.BytesIO(request_bytes))
    unpickler.persistent_load = cache.load  # type: ignore[method-assign]
    request = unpickler.load()
    if not isinstance(request, RunRequest):
        raise TypeError(f"the server sent {type(request).__name__}, not a RunRequest")
    return request


def _run_job(payload: bytes, conn: Connection, cache: DataCache) -> RunOutcome:
    try:
        request = load_job(payload, cache)
    except Exception as exc:
        return RunOutcome(
            error=f"the worker process cannot load the run: {type(exc).__name__}: {exc}"
        )
    # A run shorter than `PROGRESS_INTERVAL` that reports a bare number (as trivial
    # runs do: `ctx.progress(1.0)`) sends only its end: one message instead of two,
    # for the worker to write and the server to read, in 2,000 trivial points.
    relay = ProgressRelay(
        lambda p, m: conn.send(("progress", p, m)),
        send_reports=lambda batch: conn.send(("reports", batch)),
        hold_first=True,
    )
    outcome = execute(request, RunContext(on_progress=relay, on_report=relay.report))
    relay.flush(success=outcome.ok)
    return outcome


def conn_poller(conn: Connection) -> Callable[[float], bool]:
    """`conn.poll(timeout)` on one `select.poll` kept for `conn`: `Connection.poll`
    builds, registers and closes a selector at each call (8.6 against 0.9 µs here);
    a slot looks once per message from its worker (a message per run), a worker once
    per run."""
    if not hasattr(select, "poll"):
        return conn.poll
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)

    def ready(timeout: float) -> bool:
        # Ready also at EOF or a closed pipe (POLLHUP, POLLNVAL): `recv` raises.
        return bool(poller.poll(max(0.0, timeout) * 1000))

    return ready


def lower_priority(niceness: int) -> None:
    """Lower this process's CPU priority by `niceness` (19: also `SCHED_IDLE`), as a
    worker process does; also a bare pool's initializer in the benchmarks."""
    if niceness:
        # Runs yield the CPU to the server, so that polls stay fast on a busy machine.
        os.nice(niceness)
        if niceness >= 19 and hasattr(os, "SCHED_IDLE"):
            # The lowest priority there is: run only on a core nothing else wants.
            with contextlib.suppress(OSError):
                os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def dump_jobs(jobs: list[tuple[int, bytes]]) -> bytes:
    """One message carrying several runs (`(seq, dump_job payload)`), in the order the
    worker runs them."""
    return pickle.dumps([("job", seq, payload) for seq, payload in jobs], pickle.HIGHEST_PROTOCOL)


def dump_skip(seq: int) -> bytes:
    """The message telling a worker not to run the run `seq` it was sent (cancelled
    while it waited there); it answers with a cancelled outcome."""
    return pickle.dumps([("skip", seq)], pickle.HIGHEST_PROTOCOL)


class JobQueue:
    """The runs a worker was sent and has not run yet, and those it must skip."""

    def __init__(self) -> None:
        self.jobs: collections.deque[tuple[int, bytes]] = collections.deque()
        self.skipped: set[int] = set()

    def absorb(self, message: bytes) -> None:
        for item in pickle.loads(message):
            if item[0] == "job":
                self.jobs.append((item[1], item[2]))
            else:
                self.skipped.add(item[1])

    def next(self) -> tuple[int, bytes, bool]:
        """The next run: its seq, payload and whether to skip it."""
        seq, payload = self.jobs.popleft()
        skip = seq in self.skipped
        if self.skipped:  # a skip that came too late (the run ended) is dropped
            self.skipped = {s for s in self.skipped if s > seq}
        return seq, payload, skip


#: A run that took less wall time than this is quick enough for the server to send
#: the most runs at once (`process_slot.MAX_DEPTH` of them take less than its
#: `PIPE_SECONDS`): `RunClock` does not look how long it waited for a CPU.
QUICK_SECONDS = 0.001


class RunClock:
    """The seconds a run took in this worker, less the time it waited for a CPU
    (Linux: `/proc/thread-self/schedstat`): on a busy machine a worker at the lowest
    priority waits long between its time slices, and that says nothing about the
    run. Elsewhere, wall time."""

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None
        self._started = 0.0
        self._waited = 0

    def _waiting_ns(self) -> int:
        if self._fd is None:
            return 0
        try:
            return int(os.pread(self._fd, 128, 0).split()[1])
        except (OSError, IndexError, ValueError):
            return 0

    def start(self) -> None:
        self._waited = self._waiting_ns()
        self._started = time.perf_counter()

    def seconds(self) -> float:
        wall = time.perf_counter() - self._started
        if wall < QUICK_SECONDS:
            # Quick whatever it waited: the server sends such runs `MAX_DEPTH` at a
            # time either way, and a look at schedstat is 5 µs of a 65 µs trivial run.
            return wall
        return max(0.0, wall - (self._waiting_ns() - self._waited) / 1e9)


def worker_main(conn: Connection, niceness: int = 0) -> None:
    """The loop of a worker process: run each job received, in order, until the pipe
    closes. The server may send several at once, and more while one runs (they wait
    in the pipe, as a bare `ProcessPoolExecutor`'s calls do): the worker goes from one
    to the next without a round trip. Each ends with a `done` message (the outcome
    and the seconds it ran, `RunClock`, by which the server sizes how many it sends ahead)."""
    # Ctrl-C reaches the whole process group; the server decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lower_priority(niceness)
    cache = DataCache()
    queue = JobQueue()
    clock = RunClock()
    ready = conn_poller(conn)
    while True:
        try:
            if not queue.jobs:
                queue.absorb(conn.recv_bytes())
            while ready(0):  # skips for what waits here
                queue.absorb(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if not queue.jobs:
            continue
        _seq, payload, skip = queue.next()
        clock.start()
        outcome = RunOutcome(cancelled=True) if skip else _run_job(payload, conn, cache)
        try:
            conn.send(("done", dump_outcome(outcome), clock.seconds()))
        except OSError:  # the server is gone
            return
