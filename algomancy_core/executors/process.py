"""`ProcessExecutor`: runs algorithms in worker processes, one run per process at a time.

Each of `max_workers` slots owns a long-lived worker process (started with `spawn`:
the server has threads, so `fork` is unsafe) that runs jobs one after another, so
the cost of starting an interpreter and importing pandas is paid once per slot,
not once per run. A slot thread in the server sends a job over a pipe, relays the
progress reports that come back and hands the outcome to `on_done`. A worker keeps
the last dataset it was sent (`DataCache`): runs on one dataset version send it
once per worker. The executor takes a run per slot beyond its capacity
(`prefetch`), queued: a slot sends it to its worker as soon as the last run ends,
before that run's outcome is recorded (with 2,000 trivial points, workers no
longer idle while the server records and claims; see
`benchmarks/bench_parallel_points.py` for the figures).

Cancelling a running job terminates its process (SIGTERM, then SIGKILL after a
grace period); a process that dies takes only its own job with it. Either way the
slot starts a fresh process for the next job. What runs in the worker process is
in `process_worker`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

from algomancy_core.algorithm import ProgressCallback, ReportCallback
from algomancy_core.executors.base import DoneCallback, RunOutcome, RunRequest
from algomancy_core.executors.process_worker import (
    PROGRESS_INTERVAL,
    WORKER_NICENESS,
    DataCache,
    ProgressRelay,
    ReportBatch,
    dump_job,
    dump_outcome,
    load_job,
    load_outcome,
    lower_priority,
    worker_main,
)

log = logging.getLogger("algomancy.executors.process")

#: Seconds between SIGTERM and SIGKILL when stopping a worker process.
TERMINATE_GRACE = 2.0
#: How often a slot thread looks up from the pipe to notice cancels and deaths.
POLL_INTERVAL = 0.1

__all__ = [
    "PROGRESS_INTERVAL",
    "WORKER_NICENESS",
    "DataCache",
    "ProcessExecutor",
    "ProgressRelay",
    "dump_job",
    "dump_outcome",
    "load_job",
    "load_outcome",
    "lower_priority",
    "worker_main",
]


# -- the server side ------------------------------------------------------------------

_QUEUED, _RUNNING, _DONE = "queued", "running", "done"


class _Job:
    """A submitted run; also its `RunHandle`."""

    def __init__(
        self,
        executor: ProcessExecutor,
        request: RunRequest,
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None = None,
    ) -> None:
        self._executor = executor
        self.request = request
        self.on_progress = on_progress
        self.on_report = on_report
        self._on_done = on_done
        self.state = _QUEUED
        self.cancel_requested = False
        self.process: BaseProcess | None = None

    def cancel(self) -> None:
        self._executor._cancel(self)

    def done(self) -> bool:
        return self.state == _DONE

    def started(self) -> bool:
        """Whether a slot took it (not waiting in the queue)."""
        return self.state != _QUEUED

    def finish(self, outcome: RunOutcome) -> None:
        """Report the outcome; the executor makes sure this happens once per job."""
        try:
            self._on_done(outcome)
        except Exception:
            log.exception("on_done of scenario %s failed", self.request.scenario_id)

    def progress(self, progress: float, message: str | None) -> None:
        try:
            self.on_progress(progress, message)
        except Exception:
            log.exception("on_progress of scenario %s failed", self.request.scenario_id)

    def reports(self, batch: ReportBatch) -> None:
        if self.on_report is None:
            return
        try:
            for step, value in batch:
                self.on_report(step, value)
        except Exception:
            log.exception("on_report of scenario %s failed", self.request.scenario_id)


class _Worker:
    """A worker process and the server's end of its pipe."""

    def __init__(self, context: Any, niceness: int = 0) -> None:
        self.conn, child_conn = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=worker_main,
            args=(child_conn, niceness),
            name="algomancy-worker",
            daemon=True,
        )
        self.process.start()
        child_conn.close()  # so the server sees EOF when the process dies
        #: The `data_key` of the data the process holds (`DataCache`).
        self.data_key: str | None = None

    def discard(self) -> None:
        """Make sure the process is gone and release its resources."""
        self.kill()
        self.conn.close()
        self.process.close()

    def kill(self) -> None:
        """SIGTERM, then SIGKILL if it does not die within the grace period."""
        self.process.terminate()
        self.process.join(TERMINATE_GRACE)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class ProcessExecutor:
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
        #: Runs it takes beyond `capacity`, queued for the next free slot: one per
        #: slot, so that a worker's next run is there when its last one ends (a
        #: slot sends it before the last one's outcome is recorded).
        self.prefetch = max_workers
        self._context = multiprocessing.get_context(start_method)
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._queue: collections.deque[_Job] = collections.deque()
        self._running: set[_Job] = set()
        self._slots: list[threading.Thread] = []
        self._closed = False

    def submit(
        self,
        request: RunRequest,
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None = None,
    ) -> _Job:
        job = _Job(self, request, on_progress, on_done, on_report)
        with self._lock:
            if self._closed:
                raise RuntimeError("the process executor is shut down")
            if not self._slots:
                self._start_slots()
            self._queue.append(job)
            self._wakeup.notify()
        return job

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
        with self._lock:
            if job.state == _DONE or job.cancel_requested:
                return
            job.cancel_requested = True
            if job.state == _QUEUED:
                self._queue.remove(job)
                job.state = _DONE
            process = job.process
        if job.state == _DONE:
            job.finish(RunOutcome(cancelled=True))
        elif process is not None:
            # The slot thread notices the death, escalates to SIGKILL if need be,
            # and reports the cancel.
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

    def _take(self, wait: bool) -> _Job | None:
        """The next queued job, now running; None when shut down, or (not `wait`)
        when none is queued."""
        with self._lock:
            while wait and not self._queue and not self._closed:
                self._wakeup.wait()
            if self._closed or not self._queue:
                return None
            job = self._queue.popleft()
            job.state = _RUNNING
            self._running.add(job)
            return job

    def _slot_loop(self) -> None:
        # Started before a job needs it, so the job does not wait for the imports.
        worker = self._start_worker()
        try:
            job = self._take(wait=True)
            # (outcome, healthy) of `job` when it could not be sent; None once sent.
            sent: tuple[RunOutcome, bool] | None = None
            if job is not None:
                worker, sent = self._send(job, worker)
            while job is not None:
                outcome, healthy = sent if sent is not None else self._receive(job, worker)
                with self._lock:
                    job.state = _DONE
                    self._running.discard(job)
                    if job.cancel_requested:
                        outcome = RunOutcome(cancelled=True)
                        # A cancel may have signalled the process after it finished.
                        healthy = False
                following = None
                if healthy and worker is not None:
                    # A job queued already (claimed ahead, `prefetch`) goes to the
                    # worker before this one's outcome is recorded: the worker runs
                    # while the server writes. Without one, the outcome is recorded
                    # first (the dispatcher claims the next run in `finish`).
                    following = self._take(wait=False)
                    if following is not None:
                        worker, sent = self._send(following, worker)
                job.finish(outcome)
                if worker is not None and not healthy:
                    worker.discard()
                    worker = self._start_worker()
                if following is None:
                    following = self._take(wait=True)
                    if following is not None:
                        worker, sent = self._send(following, worker)
                job = following
        except Exception:
            log.exception("a process executor slot failed")
        finally:
            if worker is not None:
                worker.discard()  # idle: nothing in it is worth a graceful exit

    def _send(
        self, job: _Job, worker: _Worker | None
    ) -> tuple[_Worker | None, tuple[RunOutcome, bool] | None]:
        """Send `job` to `worker` (a new one if it died while idle): the worker, and
        the outcome (and whether the worker is usable) when it could not be sent."""
        if worker is not None and not worker.process.is_alive():
            # It died while idle (killed from outside): the job gets a new one.
            worker.discard()
            worker = None
        if worker is None:
            worker = self._start_worker()
        if worker is None:
            return None, (RunOutcome(error="could not start a worker process"), False)
        with self._lock:
            job.process = worker.process
        try:
            payload, with_data = dump_job(job.request, worker.data_key)
        except Exception as exc:
            return worker, (
                RunOutcome(
                    error=f"the run cannot be sent to a worker process: {type(exc).__name__}: {exc}"
                ),
                True,
            )
        try:
            worker.conn.send_bytes(payload)
        except OSError:
            return worker, (self._died(job, worker), False)
        if with_data:
            worker.data_key = job.request.data_key
        return worker, None

    def _run(self, job: _Job, worker: _Worker) -> tuple[RunOutcome, bool]:
        """Run one job on `worker`; returns the outcome and whether the worker is usable."""
        used, failed = self._send(job, worker)
        if failed is not None or used is None:
            return failed or (RunOutcome(error="could not start a worker process"), False)
        return self._receive(job, used)

    def _receive(self, job: _Job, worker: _Worker | None) -> tuple[RunOutcome, bool]:
        """What `worker` sends back about `job` (sent to it), until its outcome;
        and whether the worker is usable after it."""
        assert worker is not None
        terminated_at: float | None = None
        # A bare progress number with the next message already waiting: held, and
        # dropped if that message is a success (its end writes progress 1.0), so a
        # run that reports and returns at once costs one write, not two.
        held: tuple[float, str | None] | None = None
        while True:
            try:
                ready = worker.conn.poll(POLL_INTERVAL)
                message = worker.conn.recv() if ready else None
            except (EOFError, OSError):
                return self._died(job, worker), False
            if held is not None and (message is None or message[0] != "done"):
                if not job.cancel_requested:
                    job.progress(*held)
                held = None
            if message is None:
                if job.cancel_requested:
                    # `cancel()` sent SIGTERM (unless it came before the process was
                    # assigned); make sure the process goes.
                    now = time.monotonic()
                    if terminated_at is None:
                        terminated_at = now
                        worker.process.terminate()
                    elif now - terminated_at > TERMINATE_GRACE:
                        worker.process.kill()
                if not worker.process.is_alive() and not worker.conn.poll(0):
                    return self._died(job, worker), False
                continue
            kind = message[0]
            if kind == "progress":
                if message[2] is None and worker.conn.poll(0):
                    held = (message[1], None)
                elif not job.cancel_requested:
                    job.progress(message[1], message[2])
            elif kind == "reports":
                if not job.cancel_requested:
                    job.reports(message[1])
            elif kind == "done":
                outcome = load_outcome(message[1])
                if held is not None and not outcome.ok and not job.cancel_requested:
                    job.progress(*held)
                # Alive as far as this run goes: the next job looks again first.
                return outcome, True
            else:
                log.error("worker process sent an unknown message %r", kind)

    def _died(self, job: _Job, worker: _Worker) -> RunOutcome:
        worker.process.join(TERMINATE_GRACE)
        if worker.process.is_alive():
            worker.kill()
        if job.cancel_requested:
            return RunOutcome(cancelled=True)
        code = worker.process.exitcode
        log.error(
            "worker process %s running scenario %s died (exit code %s)",
            worker.process.pid,
            job.request.scenario_id,
            code,
        )
        return RunOutcome(error=f"the worker process running this scenario died (exit code {code})")
