"""The server side of a `ProcessExecutor` slot: a job (`_Job`), a worker process and
the server's end of its pipe (`_Worker`), and the slot's loop (`Slots`): it keeps up
to `depth` jobs in its worker's pipe, reads what the worker sends back about the one
running (the first), hands each outcome to its `on_done` in order, and starts a
fresh worker when one dies (the jobs waiting in the dead one's pipe are queued
again)."""

from __future__ import annotations

import abc
import collections
import logging
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

from algomancy_core.algorithm import ProgressCallback, ReportCallback
from algomancy_core.executors.base import DoneCallback, RunOutcome, RunRequest, tell_done
from algomancy_core.executors.process_worker import (
    ReportBatch,
    conn_poller,
    dump_job,
    dump_jobs,
    load_outcome,
    worker_main,
)

log = logging.getLogger("algomancy.executors.process")

#: Seconds between SIGTERM and SIGKILL when stopping a worker process.
TERMINATE_GRACE = 2.0
#: How often a slot thread looks up from the pipe to notice cancels and deaths.
POLL_INTERVAL = 0.1
#: The time the runs waiting in a worker's pipe may take together, by the last runs'
#: seconds (`ProcessExecutor.depth`): short enough that a session's own run, claimed
#: after them, starts soon, and that the two workers share the end of an experiment.
PIPE_SECONDS = 0.05
#: At most this many runs in a worker's pipe.
MAX_DEPTH = 32
#: How long a worker may take to answer for a job it was told to skip (cancelled
#: while it waited in the pipe; reported cancelled at once) before it is stopped:
#: the skip came too late and the job runs.
SKIP_GRACE = 1.0

#: After a run's outcome, how long a slot waits for the next runs' in its worker's
#: pipe (quick runs, several in the pipe) before it hands on those it has: the
#: server records them in one write. "E2" of `benchmarks/pool_points.py`.
GATHER_SECONDS = 0.002

_QUEUED, _SENT, _RUNNING, _DONE = "queued", "sent", "running", "done"


class _Job:
    """A submitted run; also its `RunHandle`."""

    def __init__(
        self,
        executor: Slots,
        request: RunRequest,
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None = None,
    ) -> None:
        self._executor = executor
        self.request = request
        self.on_progress = on_progress
        self.on_report = on_report
        self.on_done = on_done
        #: `_QUEUED` in the executor, `_SENT` to a worker (waiting in its pipe),
        #: `_RUNNING` (the first in the pipe), `_DONE` (reported).
        self.state = _QUEUED
        self.cancel_requested = False
        #: Cancelled while it waited in a worker's pipe: the worker skips it.
        self.skipped = False
        #: Its place in the order of submission (names it to the worker).
        self.seq = -1
        self.worker: _Worker | None = None
        self.process: BaseProcess | None = None

    def cancel(self) -> None:
        self._executor._cancel(self)

    def done(self) -> bool:
        return self.state == _DONE

    def started(self) -> bool:
        """Whether its worker runs it (not waiting in the queue or in a pipe)."""
        return self.state in (_RUNNING, _DONE)

    def finish(self, outcome: RunOutcome) -> None:
        """Report the outcome; the executor makes sure this happens once per job."""
        try:
            self.on_done(outcome)
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
        #: Whether a message (or EOF) waits within the timeout (`conn_poller`).
        self.ready = conn_poller(self.conn)
        #: The `data_key` of the data the process holds (`DataCache`).
        self.data_key: str | None = None
        #: Held while a message is written to the pipe (the slot's jobs, a
        #: canceller's skip): one writer at a time, skips after the jobs they name.
        self.send_lock = threading.Lock()

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


class Slots(abc.ABC):
    """The slot threads of `ProcessExecutor`, which sets up the attributes declared
    here and supplies the abstract methods."""

    capacity: int
    _lock: threading.Lock
    _running: set[_Job]

    @property
    @abc.abstractmethod
    def depth(self) -> int:
        """How many runs a slot keeps in its worker's pipe."""

    @abc.abstractmethod
    def _ran(self, seconds: float) -> None:
        """A worker says how long a run took."""

    @abc.abstractmethod
    def _cancel(self, job: _Job) -> None:
        """Cancel `job` (`_Job.cancel`)."""

    @abc.abstractmethod
    def _start_worker(self) -> _Worker | None:
        """A fresh worker process; None when shut down or it cannot start."""

    @abc.abstractmethod
    def _take(self, wait: bool, count: int = 1) -> list[_Job]:
        """Up to `count` queued jobs, now `_SENT`; none when shut down."""

    @abc.abstractmethod
    def _requeue(self, jobs: list[_Job]) -> None:
        """Jobs that waited in a dead worker's pipe: queued again, first."""

    def _slot_loop(self) -> None:
        # Started before a job needs it, so the job does not wait for the imports.
        worker = self._start_worker()
        # The jobs in the worker's pipe, in order: the first runs.
        sent: collections.deque[_Job] = collections.deque()
        try:
            while True:
                if not sent:
                    jobs = self._take(wait=True, count=self.depth)
                    if not jobs:
                        return  # shut down
                    worker = self._send(jobs, worker, sent)
                    continue
                assert worker is not None
                ended, healthy = self._read_ended(worker, sent)
                room = self._top_up(len(sent)) if healthy else 0
                if room:
                    # Jobs queued already (claimed ahead, `prefetch`) go to the worker
                    # before these outcomes are recorded: the worker runs while the
                    # server writes. Without them, the outcomes are recorded first (the
                    # dispatcher claims the next runs in `finish`).
                    more = self._take(wait=False, count=room)
                    if more:
                        worker = self._send(more, worker, sent, small_only=bool(sent))
                tell_done([(job.on_done, outcome) for job, outcome in ended])
                if not healthy:
                    self._requeue(list(sent))
                    sent.clear()
                    if worker is not None:
                        worker.discard()
                    worker = self._start_worker()
        except Exception:
            log.exception("a process executor slot failed")
            self._end(list(sent), RunOutcome(error="the process executor slot failed"))
        finally:
            if worker is not None:
                worker.discard()  # idle: nothing in it is worth a graceful exit

    def _read_ended(
        self, worker: _Worker, sent: collections.deque[_Job]
    ) -> tuple[list[tuple[_Job, RunOutcome]], bool]:
        """Wait for the outcome of the first job in `sent`, then take those of the next
        ones that come within `GATHER_SECONDS` (quick runs, sent several at once), so
        that they are recorded together: the jobs ended and not reported yet, with
        their outcomes, and whether the worker is usable."""
        ended: list[tuple[_Job, RunOutcome]] = []
        healthy, until = True, None
        while healthy and sent and len(ended) < MAX_DEPTH:
            read = self._read(sent[0], worker, until)
            if read is None:
                break  # the next one has not ended
            if until is None:
                until = time.monotonic() + GATHER_SECONDS
            head = sent.popleft()
            outcome, healthy = read
            with self._lock:
                reported = head.state == _DONE  # cancelled while it waited
                head.state = _DONE
                self._running.discard(head)
                if head.cancel_requested:
                    outcome = RunOutcome(cancelled=True)
                    # A cancel may have signalled the process after it finished.
                    healthy = healthy and head.skipped
                if healthy and sent and sent[0].state == _SENT:
                    sent[0].state = _RUNNING
            if not reported:
                ended.append((head, outcome))
        return ended, healthy

    def _top_up(self, waiting: int) -> int:
        """How many more runs to send a worker with `waiting` runs in its pipe: none
        while more than half of `depth` wait there, else as many as fill it. Quick
        runs then go a batch at a time, not one message (a write, a wake-up and a
        read) per run, and the worker always has half a pipe to run meanwhile."""
        depth = self.depth
        return 0 if waiting > depth // 2 else max(0, depth - waiting)

    def _end(self, jobs: list[_Job], outcome: RunOutcome) -> None:
        """Report `outcome` for those of `jobs` not reported yet."""
        ending = []
        with self._lock:
            for job in jobs:
                if job.state != _DONE:
                    job.state = _DONE
                    self._running.discard(job)
                    ending.append(job)
        for job in ending:
            job.finish(outcome)

    def _send(
        self,
        jobs: list[_Job],
        worker: _Worker | None,
        sent: collections.deque[_Job],
        small_only: bool = False,
    ) -> _Worker | None:
        """Send `jobs` (taken, `_SENT`) to `worker` in one message (a new worker if it
        died while idle) and add them to `sent`; the worker they went to. A job that
        cannot be sent is reported failed. `small_only` (the worker is busy, not
        reading its pipe): only the jobs up to the first that carries data (a data
        key the worker does not hold, or none), the others queued again; a message
        bigger than the pipe holds would block the slot (and a canceller's skip)
        until the worker is done with what it runs."""
        if worker is not None and not sent and not worker.process.is_alive():
            # It died while idle (killed from outside): the jobs get a new one.
            worker.discard()
            worker = None
        if worker is None:
            worker = self._start_worker()
        if worker is None:
            self._end(jobs, RunOutcome(error="could not start a worker process"))
            return None
        failed: list[tuple[_Job, RunOutcome]] = []
        with worker.send_lock:
            with self._lock:
                # A cancel from now on tells this worker to skip the job (after it).
                jobs = [job for job in jobs if job.state != _DONE]
                for job in jobs:
                    job.worker, job.process = worker, worker.process
            later: list[_Job] = []
            parts, going, held = [], [], worker.data_key
            for n, job in enumerate(jobs):
                key = job.request.data_key
                if small_only and (key is None or key != held):
                    later = jobs[n:]
                    break
                try:
                    payload, with_data = dump_job(job.request, held)
                except Exception as exc:
                    error = (
                        f"the run cannot be sent to a worker process: {type(exc).__name__}: {exc}"
                    )
                    failed.append((job, RunOutcome(error=error)))
                    continue
                if with_data:
                    held = job.request.data_key
                parts.append((job.seq, payload))
                going.append(job)
            if parts:
                try:
                    worker.conn.send_bytes(dump_jobs(parts))
                    worker.data_key = held
                except OSError:
                    pass  # it died: reading its first job's answer tells
            with self._lock:
                sent.extend(going)
                if sent and sent[0].state == _SENT:
                    sent[0].state = _RUNNING
        if later:
            self._requeue(later)
        for job, outcome in failed:
            self._end([job], outcome)
        return worker

    def _run(self, job: _Job, worker: _Worker) -> tuple[RunOutcome, bool]:
        """Run one job on `worker`; returns the outcome and whether the worker is usable."""
        sent: collections.deque[_Job] = collections.deque()
        used = self._send([job], worker, sent)
        if not sent or used is None:
            return RunOutcome(error="the run was not sent"), True
        return self._receive(job, used)

    def _receive(self, job: _Job, worker: _Worker) -> tuple[RunOutcome, bool]:
        """What `worker` sends back about `job` (the first in its pipe), until its
        outcome; and whether the worker is usable after it."""
        read = self._read(job, worker)
        assert read is not None
        return read

    def _read(
        self, job: _Job, worker: _Worker, until: float | None = None
    ) -> tuple[RunOutcome, bool] | None:
        """`_receive`; with `until` (a `time.monotonic()`), what comes in the pipe
        until then, and None when that does not end `job`."""
        cancel_seen: float | None = None
        terminated_at: float | None = None
        # A bare progress number with the next message already waiting: held, and
        # dropped if that message is a success (its end writes progress 1.0), so a
        # run that reports and returns at once costs one write, not two.
        held: tuple[float, str | None] | None = None
        while True:
            try:
                timeout = POLL_INTERVAL if until is None else until - time.monotonic()
                ready = worker.ready(timeout)
                message = worker.conn.recv() if ready else None
            except (EOFError, OSError):
                return self._died(job, worker), False
            if held is not None and (message is None or message[0] != "done"):
                if not job.cancel_requested:
                    job.progress(*held)
                held = None
            if message is None and until is not None:
                return None
            if message is None:
                if job.cancel_requested:
                    # `cancel()` sent SIGTERM (unless it came before the process was
                    # assigned), or a skip: make sure the process goes, a skipped
                    # job's after a grace period (the worker may be answering).
                    now = time.monotonic()
                    cancel_seen = now if cancel_seen is None else cancel_seen
                    if job.skipped and now - cancel_seen < SKIP_GRACE:
                        pass
                    elif terminated_at is None:
                        terminated_at = now
                        worker.process.terminate()
                    elif now - terminated_at > TERMINATE_GRACE:
                        worker.process.kill()
                if not worker.process.is_alive() and not worker.ready(0):
                    return self._died(job, worker), False
                continue
            kind = message[0]
            if kind == "progress":
                if message[2] is None and worker.ready(0):
                    held = (message[1], None)
                elif not job.cancel_requested:
                    job.progress(message[1], message[2])
            elif kind == "reports":
                if not job.cancel_requested:
                    job.reports(message[1])
            elif kind == "done":
                outcome = load_outcome(message[1])
                if len(message) > 2:
                    self._ran(message[2])
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
