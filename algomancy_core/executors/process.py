"""`ProcessExecutor`: runs algorithms in worker processes, one run per process at a time.

Each of `max_workers` slots owns a long-lived worker process (started with `spawn`:
the server has threads, so `fork` is unsafe) that runs jobs one after another, so
the cost of starting an interpreter and importing pandas is paid once per slot,
not once per run. A slot thread in the server sends jobs over a pipe, relays the
progress reports that come back and hands each outcome to `on_done`, in order. A
worker keeps the last dataset it was sent (`DataCache`): runs on one dataset
version send it once per worker.

Runs that take little time go to a worker several at once (`depth`: as many as
take about `PIPE_SECONDS` together, by the seconds the last runs took, at most
`MAX_DEPTH`); they wait in its pipe, as a bare `ProcessPoolExecutor`'s calls do, so
that a worker goes from one to the next without waiting for the server. The
executor takes as many beyond its capacity (`prefetch`) as its slots hold in their
pipes, queued for them. Slow runs go one at a time (`depth` 1). See
`process_slot` for the slot's loop, and `benchmarks/pool_points.py` for the
figures.

Cancelling a job waiting in a worker's pipe reports it cancelled at once and tells
the worker to skip it; cancelling a running job terminates its process (SIGTERM,
then SIGKILL after a grace period). A process that dies takes only its running job
with it: the jobs waiting in its pipe are queued again, and the slot starts a fresh
process. What runs in the worker process is in `process_worker`.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import logging
import multiprocessing
import threading
from collections.abc import Sequence

from algomancy_core.algorithm import ProgressCallback, ReportCallback
from algomancy_core.executors.base import DoneCallback, RunOutcome, RunRequest, Submission
from algomancy_core.executors.process_slot import (
    _DONE,
    _QUEUED,
    _RUNNING,
    _SENT,
    MAX_DEPTH,
    PIPE_SECONDS,
    POLL_INTERVAL,
    TERMINATE_GRACE,
    Slots,
    _Job,
    _Worker,
)
from algomancy_core.executors.process_worker import (
    PROGRESS_INTERVAL,
    WORKER_NICENESS,
    ProgressRelay,
    dump_job,
    dump_outcome,
    dump_skip,
    load_job,
    load_outcome,
    lower_priority,
    worker_main,
)
from algomancy_core.executors.run_data import DataCache, copies_safely

log = logging.getLogger("algomancy.executors.process")

#: How many of the last runs' seconds size `depth` (the slowest of them counts).
SECONDS_KEPT = 8

__all__ = [
    "MAX_DEPTH",
    "PIPE_SECONDS",
    "POLL_INTERVAL",
    "PROGRESS_INTERVAL",
    "TERMINATE_GRACE",
    "WORKER_NICENESS",
    "DataCache",
    "ProcessExecutor",
    "ProgressRelay",
    "_Job",
    "_Worker",
    "copies_safely",
    "dump_job",
    "dump_outcome",
    "load_job",
    "load_outcome",
    "lower_priority",
    "worker_main",
]


class ProcessExecutor(Slots):
    """Runs each algorithm in a worker process: CPU-bound Python runs in parallel,
    and a cancel or a crash cannot take the server down with it.

    Parameters, the dataset and the result are pickled between processes, and the
    algorithm class is pickled by reference: it must be importable by module path.
    """

    def __init__(
        self, max_workers: int = 4, *, start_method: str = "spawn", niceness: int = WORKER_NICENESS
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        if not 0 <= niceness <= 19:
            raise ValueError("niceness must be between 0 and 19")
        #: How much lower than the server's the workers' CPU priority is.
        self.niceness = niceness
        if start_method not in ("spawn", "forkserver"):
            raise ValueError("start_method must be 'spawn' or 'forkserver'")
        self.capacity = max_workers
        self._context = multiprocessing.get_context(start_method)
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._queue: collections.deque[_Job] = collections.deque()
        self._running: set[_Job] = set()
        self._slots: list[threading.Thread] = []
        self._closed = False
        self._seq = itertools.count()
        #: Seconds the last runs took in their workers (`SECONDS_KEPT` of them).
        self._seconds: collections.deque[float] = collections.deque(maxlen=SECONDS_KEPT)
        self._depth = 1

    @property
    def depth(self) -> int:
        """How many runs a slot keeps in its worker's pipe: 1 until runs are known to
        be quick, then as many as the slowest of the last runs fits in `PIPE_SECONDS`
        (at most `MAX_DEPTH`), so that a batch sent to a worker stays short in time (a
        session's own run, cancels and the other worker are never held up by it)."""
        return self._depth

    @property
    def prefetch(self) -> int:
        """Runs it takes beyond `capacity`, queued for the slots: as many as their
        pipes hold, so that a worker's next runs are there when its last one ends (a
        slot sends them before the last one's outcome is recorded)."""
        return self.capacity * self.depth

    def _ran(self, seconds: float) -> None:
        """A worker says how long a run took."""
        with self._lock:
            self._seconds.append(seconds)
            slowest = max(self._seconds)
            self._depth = max(1, min(MAX_DEPTH, int(PIPE_SECONDS / max(slowest, 1e-6))))

    def submit(
        self,
        request: RunRequest,
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None = None,
    ) -> _Job:
        return self.submit_many([(request, on_progress, on_done, on_report)])[0]

    def submit_many(self, runs: Sequence[Submission]) -> list[_Job]:
        """`submit` of each of `runs`, queued together: a slot that waits for work
        takes them in one go, not the first alone (`base.submit_many`)."""
        jobs = [_Job(self, *run) for run in runs]
        with self._lock:
            if self._closed:
                raise RuntimeError("the process executor is shut down")
            if not self._slots:
                self._start_slots()
            for job in jobs:
                job.seq = next(self._seq)
            self._queue.extend(jobs)
            self._wakeup.notify(len(jobs))
        return jobs

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            queued = list(self._queue)
            self._queue.clear()
            for job in queued:
                job.state = _DONE
            running = list(self._running)
            slots = list(self._slots)
            self._wakeup.notify_all()
        for job in queued:
            job.finish(RunOutcome(cancelled=True))
        for job in running:
            job.cancel()
        for slot in slots:
            if slot is not threading.current_thread():
                slot.join()

    # -- internals ---------------------------------------------------------------
    def _start_slots(self) -> None:
        for n in range(self.capacity):
            slot = threading.Thread(
                target=self._slot_loop, name=f"algomancy-process-slot-{n}", daemon=True
            )
            self._slots.append(slot)
            slot.start()

    def _cancel(self, job: _Job) -> None:
        worker: _Worker | None = None
        with self._lock:
            if job.state == _DONE or job.cancel_requested:
                return
            job.cancel_requested = True
            state = job.state
            if state == _QUEUED:
                self._queue.remove(job)
            if state in (_QUEUED, _SENT):
                # Not begun: reported cancelled now; one waiting in a worker's pipe is
                # skipped there (its slot reads the worker's answer and drops it).
                job.state = _DONE
                job.skipped = state == _SENT
                self._running.discard(job)
                worker = job.worker
            process = job.process
        if state == _SENT and worker is not None:
            with worker.send_lock, contextlib.suppress(OSError, ValueError):
                worker.conn.send_bytes(dump_skip(job.seq))
        if state in (_QUEUED, _SENT):
            job.finish(RunOutcome(cancelled=True))
        elif state == _RUNNING and process is not None:
            # The slot thread notices the death, escalates to SIGKILL if need be,
            # reports the cancel and queues again the jobs waiting in the pipe.
            with contextlib.suppress(ValueError):  # the slot closed it meanwhile
                process.terminate()

    def _start_worker(self) -> _Worker | None:
        with self._lock:
            if self._closed:
                return None
        try:
            return _Worker(self._context, self.niceness)
        except Exception:
            log.exception("could not start a worker process")
            return None

    def _take(self, wait: bool, count: int = 1) -> list[_Job]:
        """Up to `count` queued jobs, now `_SENT` (going to a worker); none when shut
        down, or (not `wait`) when none is queued."""
        with self._lock:
            while wait and not self._queue and not self._closed:
                self._wakeup.wait()
            if self._closed:
                return []
            taken: list[_Job] = []
            while self._queue and len(taken) < count:
                job = self._queue.popleft()
                job.state = _SENT
                self._running.add(job)
                taken.append(job)
            return taken

    def _requeue(self, jobs: list[_Job]) -> None:
        """Jobs that waited in the pipe of a worker that died: first in the queue again
        (in their order), or cancelled when the executor is shut down."""
        cancelled = []
        with self._lock:
            for job in reversed(jobs):
                if job.state == _DONE:
                    continue  # cancelled while it waited: reported already
                self._running.discard(job)
                job.worker, job.process = None, None
                if self._closed:
                    job.state = _DONE
                    cancelled.append(job)
                else:
                    job.state = _QUEUED
                    self._queue.appendleft(job)
            self._wakeup.notify_all()
        for job in cancelled:
            job.finish(RunOutcome(cancelled=True))
