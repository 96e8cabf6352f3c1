"""`DaskExecutor`: runs algorithms as tasks on a Dask cluster.

Each run is one task (`_run_on_worker`) that ships the algorithm (by reference:
the workers must be able to import it), its parameters and the dataset. Three
scheduler-side objects, named after the task key, connect the run to the server:

- a `distributed.Queue` carries progress reports back; a monitor thread in the
  server drains it and calls `on_progress`;
- a `distributed.Event` set by `cancel()` is what the worker's `RunContext` checks
  (at most every `CANCEL_CHECK_INTERVAL` seconds), since a Dask worker cannot stop
  a running thread; the task's future is cancelled as well;
- a second `Event`, set by the task when it starts, tells a re-run (Dask re-runs a
  task whose worker died) that a worker was lost, so the run fails instead of
  starting over unseen.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from distributed import Client, Event, Queue
from distributed.client import Future

from algomancy_core.algorithm import ProgressCallback, ReportCallback, RunContext
from algomancy_core.executors.base import DoneCallback, RunOutcome, RunRequest, execute
from algomancy_core.executors.process_worker import ProgressRelay, dump_outcome, load_outcome

log = logging.getLogger("algomancy.executors.dask")

#: Seconds between two looks at the cancel flag from a worker (each is a round trip).
CANCEL_CHECK_INTERVAL = 0.2
#: A worker sends at most one progress report per this many seconds (the latest wins).
PROGRESS_INTERVAL = 0.05
#: How often the server drains progress queues and looks for finished tasks (a task
#: that ends wakes it at once: its future's done-callback).
POLL_INTERVAL = 0.05

LOST = "the Dask worker running this scenario was lost"


def _run_on_worker(request: RunRequest, key: str) -> bytes:
    """The task: run `request` on a Dask worker; returns the pickled `RunOutcome`."""
    started, cancel = Event(f"{key}-started"), Event(f"{key}-cancel")
    if started.is_set():
        return dump_outcome(
            RunOutcome(error=f"{LOST} while running it; the run was not started again")
        )
    started.set()
    progress = Queue(f"{key}-progress")
    checked_at = time.monotonic()

    def is_cancelled() -> bool:
        nonlocal checked_at
        now = time.monotonic()
        if now - checked_at < CANCEL_CHECK_INTERVAL:
            return False
        checked_at = now
        return bool(cancel.is_set())

    try:
        relay = ProgressRelay(
            lambda p, m: progress.put(["progress", p, m]),
            PROGRESS_INTERVAL,
            send_reports=lambda batch: progress.put(["reports", batch]),
        )
        progress.put(["started"])
        ctx = RunContext(on_progress=relay, is_cancelled=is_cancelled, on_report=relay.report)
        outcome = execute(request, ctx)
        relay.flush()
        if ctx.cancelled:
            cancel.clear()  # deletes it on the scheduler
        return dump_outcome(outcome)
    finally:
        progress.close()


class _DaskRun:
    """A submitted run; also its `RunHandle`."""

    def __init__(
        self,
        executor: DaskExecutor,
        key: str,
        future: Future,
        progress: Queue,
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None = None,
    ) -> None:
        self._executor = executor
        self.key = key
        self.future = future
        self.progress = progress
        self.on_progress = on_progress
        self.on_report = on_report
        self.on_done = on_done
        self.cancel_requested = False
        self.started = False
        self.finished = False

    def cancel(self) -> None:
        self._executor._cancel(self)

    def done(self) -> bool:
        return self.finished


class DaskExecutor:
    """Runs each algorithm as a task on a Dask cluster it connects to (and does not own).

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
        self._runs: dict[str, _DaskRun] = {}
        self._closed = False
        self._stop = threading.Event()
        # Set by a task's end (or shutdown): the monitor looks at once, not at its next poll.
        self._wake = threading.Event()
        self._monitor = threading.Thread(
            target=self._monitor_loop, name="algomancy-dask-monitor", daemon=True
        )
        self._monitor.start()

    def submit(
        self,
        request: RunRequest,
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None = None,
    ) -> _DaskRun:
        with self._lock:
            if self._closed:
                raise RuntimeError("the Dask executor is shut down")
        key = f"algomancy-{request.scenario_id}-{uuid.uuid4().hex}"
        progress = Queue(f"{key}-progress", client=self._client)
        try:
            future = self._client.submit(_run_on_worker, request, key, key=key, pure=False)
        except BaseException:
            progress.close()
            raise
        run = _DaskRun(self, key, future, progress, on_progress, on_done, on_report)
        with self._lock:
            self._runs[key] = run
        future.add_done_callback(lambda _future: self._wake.set())
        return run

    def shutdown(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            runs = list(self._runs.values())
        for run in runs:
            run.cancel()
        self._stop.set()
        self._wake.set()
        if self._monitor is not threading.current_thread():
            self._monitor.join()
        with self._lock:
            left = list(self._runs.values())
            self._runs.clear()
        for run in left:
            self._finish(run, RunOutcome(cancelled=True))
        if self._owns_client:
            self._client.close()

    # -- internals ---------------------------------------------------------------
    def _cancel(self, run: _DaskRun) -> None:
        with self._lock:
            if run.finished or run.cancel_requested:
                return
            run.cancel_requested = True
        try:
            Event(f"{run.key}-cancel", client=self._client).set()
            run.future.cancel()
        except Exception:
            log.exception("could not cancel Dask task %s", run.key)

    def _monitor_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_INTERVAL)
            self._wake.clear()
            if self._stop.is_set():
                return
            with self._lock:
                runs = list(self._runs.values())
            for run in runs:
                try:
                    self._poll(run)
                except Exception:
                    log.exception("watching Dask task %s failed", run.key)
                    self._complete(run, RunOutcome(error=f"lost track of the Dask task {run.key}"))

    def _poll(self, run: _DaskRun) -> None:
        done = run.future.done()  # before draining: reports put before the end are queued
        self._drain(run)
        if done:
            self._complete(run, self._outcome(run))

    def _drain(self, run: _DaskRun) -> None:
        for message in run.progress.get(batch=True):
            if message[0] == "started":
                run.started = True
            elif message[0] == "progress" and not run.cancel_requested:
                try:
                    run.on_progress(message[1], message[2])
                except Exception:
                    log.exception("on_progress of Dask task %s failed", run.key)
            elif message[0] == "reports" and not run.cancel_requested:
                self._relay_reports(run, message[1])

    @staticmethod
    def _relay_reports(run: _DaskRun, batch: list[list[Any]]) -> None:
        if run.on_report is None:
            return
        try:
            for step, value in batch:
                run.on_report(int(step), float(value))
        except Exception:
            log.exception("on_report of Dask task %s failed", run.key)

    def _outcome(self, run: _DaskRun) -> RunOutcome:
        if run.cancel_requested:
            return RunOutcome(cancelled=True)
        status = run.future.status
        if status == "finished":
            return load_outcome(run.future.result())
        if status == "error":
            exc = run.future.exception()
            if type(exc).__name__ == "KilledWorker":
                return RunOutcome(error=f"{LOST}: {exc}")
            return RunOutcome(error=f"the Dask task failed: {type(exc).__name__}: {exc}")
        return RunOutcome(error=f"{LOST}: the task is {status}")

    def _complete(self, run: _DaskRun, outcome: RunOutcome) -> None:
        with self._lock:
            if self._runs.pop(run.key, None) is None:
                return
        try:
            run.progress.close()
            Event(f"{run.key}-started", client=self._client).clear()
            if run.cancel_requested and not run.started:
                # The task never ran, so nothing else will delete the flag.
                Event(f"{run.key}-cancel", client=self._client).clear()
        except Exception:
            log.exception("cleaning up after Dask task %s failed", run.key)
        run.future.release()
        self._finish(run, outcome)

    def _finish(self, run: _DaskRun, outcome: RunOutcome) -> None:
        with self._lock:
            if run.finished:
                return
            run.finished = True
        try:
            run.on_done(outcome)
        except Exception:
            log.exception("on_done of Dask task %s failed", run.key)
