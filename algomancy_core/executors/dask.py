"""`DaskExecutor`: runs algorithms as tasks on a Dask cluster, a batch of runs per task.

Runs submitted wait in the executor's own queue; at most `capacity` Dask tasks are
in flight, each running a batch of the queued runs in order on its worker
(`dask_worker.run_batch`). A batch grows while runs are fast (as many as take
about `BATCH_SECONDS` by the durations measured so far, at most `MAX_BATCH`) and
stays one run for slow ones, so slow points still spread over the workers. The
executor takes runs ahead of a free worker (`prefetch`: enough for the next batch
of each worker; one per worker while runs are slow or not measured yet), which
the dispatcher gives it from experiments' points only.

A run's start, progress, reports and end come back as structured events on the
executor's topic (`Client.subscribe_topic`): pushed by the scheduler, before the
task's end, with no round trip. Its outcome comes with its task's result. The
scheduler-side objects are per task, not per run: an `Event` "started" (a task
Dask re-runs because its worker died knows it: the run it was running fails, the
others of the batch are queued again), and, only once one of its runs is
cancelled, an `Event` "cancel" with a `Variable` listing the cancelled runs, which
the worker looks at (at most every `CANCEL_CHECK_INTERVAL` seconds: cancellation
of a running algorithm is cooperative). A cancelled run ends (`on_done`) at once;
a task whose runs are all cancelled is cancelled too.

Before (one task and three scheduler objects per run) a trivial run cost about 11
scheduler round trips (`queue_create`, `queue_put` and `queue_get` twice each,
`event_is_set`, `event_set`, `event_clear`, `gather`); now a task costs 5, shared
by its batch. Figures in `benchmarks/pool_points.py`, part (c).
"""

from __future__ import annotations

import collections
import logging
import math
import pickle
import queue
import threading
import uuid
from typing import Any

from distributed import Client, Event, Variable

from algomancy_core.algorithm import ProgressCallback, ReportCallback
from algomancy_core.executors.base import DoneCallback, RunOutcome, RunRequest
from algomancy_core.executors.dask_batch import (
    BATCH_SECONDS,
    MAX_BATCH,
    DaskRun,
    Task,
    average,
    batch_size,
)
from algomancy_core.executors.dask_worker import (
    CANCEL_CHECK_INTERVAL,
    ENDED,
    ONCE,
    PROGRESS,
    PROGRESS_INTERVAL,
    REPORTS,
    RERUN,
    STARTED,
    dump_run,
    run_batch,
)
from algomancy_core.executors.process_worker import load_outcome

log = logging.getLogger("algomancy.executors.dask")

__all__ = [
    "BATCH_SECONDS",
    "CANCEL_CHECK_INTERVAL",
    "MAX_BATCH",
    "PROGRESS_INTERVAL",
    "DaskExecutor",
]

#: How often the monitor looks for finished tasks if nothing woke it (a task's end
#: and each event wake it at once).
POLL_INTERVAL = 0.05
LOST = "the Dask worker running this scenario was lost"


class DaskExecutor:
    """Runs algorithms as tasks on a Dask cluster it connects to (and does not own).

    `address` is a scheduler address, or a `distributed.Client` to use as is (the
    executor then leaves it open on shutdown).
    """

    def __init__(self, address: str | Any, max_workers: int = 4) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.capacity = max_workers
        if isinstance(address, Client):
            self._client, self._owns_client = address, False
        else:
            self._client, self._owns_client = Client(address, set_as_default=False), True
        self._lock = threading.Lock()
        self._queue: collections.deque[DaskRun] = collections.deque()
        self._tasks: dict[str, Task] = {}
        self._closed = False
        #: Seconds a run of each algorithm takes (exponential average), and of any.
        self._estimates: dict[str, float] = {}
        self._recent: float | None = None
        #: The data last pickled, by its `data_key`: a dataset is pickled once.
        self._blob: tuple[str, bytes] | None = None
        #: How many Dask tasks it submitted (each a batch of runs).
        self.tasks_submitted = 0
        self._events: queue.SimpleQueue[list[Any]] = queue.SimpleQueue()
        self._topic = f"algomancy-{uuid.uuid4().hex}"
        self._client.subscribe_topic(self._topic, self._on_event)
        self._stop = threading.Event()
        # Set by a task's end, an event or shutdown: the monitor looks at once.
        self._wake = threading.Event()
        self._monitor = threading.Thread(
            target=self._monitor_loop, name="algomancy-dask-monitor", daemon=True
        )
        self._monitor.start()

    @property
    def prefetch(self) -> int:
        """Runs it takes beyond `capacity`: the next batch of each worker, by the
        durations of recent runs (one per worker while they are slow or unknown)."""
        return self.capacity * (2 * batch_size(self._recent) - 1)

    def submit(
        self,
        request: RunRequest,
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None = None,
    ) -> DaskRun:
        if self._closed:
            raise RuntimeError("the Dask executor is shut down")
        blob = self._data_blob(request)
        run = DaskRun(
            self._cancel, request, dump_run(request, blob[0]), blob, on_progress, on_done, on_report
        )
        with self._lock:
            if self._closed:
                raise RuntimeError("the Dask executor is shut down")
            self._queue.append(run)
            failed = self._launch()
        self._fail(failed)
        return run

    def shutdown(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            runs = list(self._queue) + [run for task in self._tasks.values() for run in task.runs]
        self._cancel(runs)
        self._stop.set()
        self._wake.set()
        if self._monitor is not threading.current_thread():
            self._monitor.join()
        with self._lock:
            tasks = list(self._tasks.values())
            self._tasks.clear()
        for task in tasks:
            self._clean_up(task)
        try:
            self._client.unsubscribe_topic(self._topic)
        except Exception:
            log.debug("could not unsubscribe from %s", self._topic, exc_info=True)
        if self._owns_client:
            self._client.close()

    # -- internals: submitting -----------------------------------------------------
    def _data_blob(self, request: RunRequest) -> tuple[str, bytes]:
        """A token for the request's data and the data pickled (once per `data_key`)."""
        key = request.data_key
        held = self._blob
        if key is not None and held is not None and held[0] == key:
            return held
        token = key or f"{ONCE}{uuid.uuid4().hex}"
        blob = (token, pickle.dumps(request.data, pickle.HIGHEST_PROTOCOL))
        if key is not None:
            self._blob = blob
        return blob

    def _launch(self) -> list[DaskRun]:
        """Start tasks for the queued runs while fewer than `capacity` are in flight
        (with the lock held); the runs of a task Dask would not take, to be failed
        (`_fail`) once the lock is released."""
        failed: list[DaskRun] = []
        while self._queue and len(self._tasks) < self.capacity:
            free = self.capacity - len(self._tasks)
            # Shared fairly among the free workers, and about BATCH_SECONDS long.
            room = min(MAX_BATCH, math.ceil(len(self._queue) / free))
            batch = [self._queue.popleft()]
            planned = self._estimates.get(batch[0].algorithm)
            while self._queue and len(batch) < room and planned is not None:
                following = self._estimates.get(self._queue[0].algorithm)
                if following is None or planned + following > BATCH_SECONDS:
                    break
                planned += following
                batch.append(self._queue.popleft())
            try:
                self._start(batch)
            except Exception:
                log.exception("could not submit a Dask task")
                failed += batch
        return failed

    def _start(self, batch: list[DaskRun]) -> None:
        key = f"algomancy-{batch[0].scenario_id}-{uuid.uuid4().hex}"
        task = Task(key, batch)
        blobs = dict(run.blob for run in batch)
        task.future = self._client.submit(
            run_batch, self._topic, key, [run.job for run in batch], blobs, key=key, pure=False
        )
        for run in batch:
            run.task = task
        self._tasks[key] = task
        self.tasks_submitted += 1
        task.future.add_done_callback(lambda _future: self._wake.set())

    # -- internals: cancelling -----------------------------------------------------
    def _cancel(self, runs: list[DaskRun]) -> None:
        """Cancel `runs`: each ends at once; their workers are told (one message per
        task); a task left with nothing to run is cancelled."""
        by_task: dict[Task, bool] = {}
        ended: list[DaskRun] = []
        with self._lock:
            for run in runs:
                if run.finished or run.cancel_requested:
                    continue
                run.cancel_requested = True
                ended.append(run)
                task = run.task
                if task is None:
                    self._queue.remove(run)
                    continue
                task.cancelled.add(task.runs.index(run))
                by_task[task] = all(r.cancel_requested or r.finished for r in task.runs)
        for run in ended:  # before the task's end can say anything else
            self._finish(run, RunOutcome(cancelled=True))
        for task, idle in by_task.items():
            self._signal(task, idle)

    def _signal(self, task: Task, idle: bool) -> None:
        try:
            with task.signal_lock:
                if task.closed:
                    return
                Variable(f"{task.key}-cancelled", client=self._client).set(sorted(task.cancelled))
                Event(f"{task.key}-cancel", client=self._client).set()
            if idle and task.future is not None:
                task.abandoned = True
                task.future.cancel()
        except Exception:
            log.exception("could not cancel Dask task %s", task.key)

    # -- internals: the monitor ------------------------------------------------------
    def _on_event(self, event: tuple[float, list[list[Any]]]) -> None:
        """Events of runs (on the client's event loop: only hand them over)."""
        for message in event[1]:
            self._events.put(message)
        self._wake.set()

    def _monitor_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_INTERVAL)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                with self._lock:
                    # Before the events: those of a finished task came before its end.
                    ended = [t for t in self._tasks.values() if t.future and t.future.done()]
                self._drain()
                for task in ended:
                    self._complete(task)
            except Exception:
                log.exception("watching Dask tasks failed")

    def _drain(self) -> None:
        while True:
            try:
                message = self._events.get_nowait()
            except queue.Empty:
                return
            try:
                self._handle(message)
            except Exception:
                log.exception("handling the Dask event %r failed", message[:3])

    def _handle(self, message: list[Any]) -> None:
        kind, key, index = message[0], message[1], message[2]
        with self._lock:
            task = self._tasks.get(key)
        if task is None:
            return
        run = task.runs[index]
        if kind == STARTED:
            run.started = True
            task.last_started = index
        elif kind == ENDED:
            self._measured(run.algorithm, float(message[3]))
        elif run.cancel_requested or run.finished:
            return
        elif kind == PROGRESS:
            try:
                run.on_progress(message[3], message[4])
            except Exception:
                log.exception("on_progress of scenario %s failed", run.scenario_id)
        elif kind == REPORTS and run.on_report is not None:
            try:
                for step, value in message[3]:
                    run.on_report(int(step), float(value))
            except Exception:
                log.exception("on_report of scenario %s failed", run.scenario_id)

    def _measured(self, algorithm: str, seconds: float) -> None:
        before = self._estimates.get(algorithm)
        self._estimates[algorithm] = average(before, seconds)
        self._recent = average(self._recent, seconds)

    def _complete(self, task: Task) -> None:
        """`task` ended: start the next batch, then end its runs in order."""
        with self._lock:
            if self._tasks.pop(task.key, None) is None:
                return
            failed = [] if self._closed else self._launch()
        self._fail(failed)
        outcomes = self._outcomes(task)
        self._clean_up(task)
        if outcomes is None:  # re-run after its worker was lost
            ends = self._requeue(task)
        else:
            ends = list(zip(task.runs, outcomes, strict=True))
        for run, outcome in ends:
            self._finish(run, outcome)

    def _outcomes(self, task: Task) -> list[RunOutcome] | None:
        """Its runs' outcomes; None if Dask re-ran it after its worker was lost."""
        assert task.future is not None
        status = task.future.status
        if status == "finished":
            try:
                result = task.future.result()
            except Exception as failed:
                return [RunOutcome(error=f"{LOST}: {failed}")] * len(task.runs)
            if result == RERUN:
                return None
            return [load_outcome(payload) for payload in result]
        if status == "error":
            exc = task.future.exception()
            if type(exc).__name__ == "KilledWorker":
                error = f"{LOST}: {exc}"
            else:
                error = f"the Dask task failed: {type(exc).__name__}: {exc}"
            return [RunOutcome(error=error)] * len(task.runs)
        return [RunOutcome(error=f"{LOST}: the task is {status}")] * len(task.runs)

    def _requeue(self, task: Task) -> list[tuple[DaskRun, RunOutcome]]:
        """The runs of a task whose worker was lost: the run it was running (the last
        one a worker said it started) fails; the others go back to the queue's front."""
        crashed = task.runs[task.last_started or 0]
        with self._lock:
            again = [
                run
                for run in task.runs
                if run is not crashed and not run.finished and not run.cancel_requested
            ]
            closed = self._closed
            if not closed:
                for run in reversed(again):
                    run.task, run.started = None, False
                    self._queue.appendleft(run)
            failed = [] if closed else self._launch()
        self._fail(failed)
        error = RunOutcome(error=f"{LOST} while running it; the run was not started again")
        return [(crashed, error)] + [(run, RunOutcome(cancelled=True)) for run in again if closed]

    def _clean_up(self, task: Task) -> None:
        """Delete the task's objects on the scheduler and release its result. A task
        cancelled while a worker ran it does that itself when it ends (it has yet to
        see the cancel); one that ended, or never started, is cleaned up here."""
        objects = not (task.abandoned and any(run.started for run in task.runs))
        with task.signal_lock:
            task.closed = True
            try:
                if objects:
                    Event(f"{task.key}-started", client=self._client).clear()
                if objects and task.cancelled:
                    Event(f"{task.key}-cancel", client=self._client).clear()
                    Variable(f"{task.key}-cancelled", client=self._client).delete()
            except Exception:
                log.exception("cleaning up after Dask task %s failed", task.key)
        if task.future is not None:
            task.future.release()

    def _fail(self, runs: list[DaskRun]) -> None:
        for run in runs:
            self._finish(run, RunOutcome(error="could not submit the run to the Dask cluster"))

    def _finish(self, run: DaskRun, outcome: RunOutcome) -> None:
        with self._lock:
            if run.finished:
                return
            run.finished = True
        try:
            run.on_done(outcome)
        except Exception:
            log.exception("on_done of scenario %s failed", run.scenario_id)
