"""The dispatcher: claims queued scenarios, hands them to the executor, records outcomes.

One dispatcher runs per process. It claims work from the store (so several
processes sharing one SQL store never run a scenario twice), holds a lease on each
run it owns and renews it, stops runs whose cancellation was requested (by any
process) or whose time ran out, and fails runs whose owner died.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import os
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import orjson

from algomancy_core.algorithm import BaseAlgorithm
from algomancy_core.executors.base import Executor, RunHandle, RunOutcome, RunRequest
from algomancy_core.kpi import BaseKPI, KpiError, kpi_values
from algomancy_core.lifecycle import Lifecycle
from algomancy_core.lineage import executor_name, run_lineage
from algomancy_core.observe import Observers, outcome_name
from algomancy_core.scenario import (
    CANCELLED,
    INTERRUPTED,
    ScenarioRecord,
    ScenarioStatus,
    utcnow,
)
from algomancy_data import DataSource

log = logging.getLogger("algomancy.dispatcher")

#: How often housekeeping drops audit records past their retention.
AUDIT_PRUNE_SECONDS = 3600.0

S = ScenarioStatus


def new_owner_id() -> str:
    """`host:pid:token`: lets a process on the same host tell a dead owner at once."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str) -> bool:
    """True when `owner` was a process on this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@dataclasses.dataclass
class _Run:
    record: ScenarioRecord
    handle: RunHandle | None = None
    deadline: float | None = None
    stop_reason: str | None = None
    progress: float = 0.0
    message: str | None = None
    flushed_at: float = 0.0
    dirty: bool = False
    #: The run's first report, until the dispatcher has written it.
    first: tuple[float, str | None] | None = None
    started_at: float = dataclasses.field(default_factory=time.monotonic)
    #: The `lineage` and `fingerprint` fields written with the run's end.
    lineage: dict[str, Any] = dataclasses.field(default_factory=dict)


class Dispatcher:
    """Moves queued scenarios through the executor, one per session at a time."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        executor: Executor,
        algorithms: dict[str, type[BaseAlgorithm]],
        kpis: dict[str, type[BaseKPI]],
        *,
        lease_seconds: float = 30.0,
        poll_interval: float = 0.5,
        progress_interval: float = 0.25,
        run_timeout: float | None = None,
        requeue_interrupted: bool = False,
        observers: Observers | None = None,
        audit_retention: timedelta | None = None,
    ) -> None:
        self.lifecycle = lifecycle
        self.observers = observers if observers is not None else Observers()
        self.store = store = lifecycle.store
        self.executor = executor
        self.algorithms = algorithms
        self.kpis = kpis
        self.owner = new_owner_id()
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_interval = poll_interval
        # Memory stores take every report; shared stores get a few writes a second.
        self.progress_interval = progress_interval if store.shared else 0.0
        self.run_timeout = run_timeout
        self.requeue_interrupted = requeue_interrupted
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_housekeeping = 0.0
        self.audit_retention = audit_retention
        self._last_audit_prune = float("-inf")
        # Claims that may succeed since the last look found nothing: one per local
        # event that can make one (a scenario queued in a session idle here, a run
        # ended here). Start-up and each poll look until nothing is claimable (other
        # processes queue and finish work too).
        self._may_claim = executor.capacity
        self._filling = threading.Lock()

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="algomancy-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            if run.handle is not None:
                run.stop_reason = INTERRUPTED
                run.handle.cancel()

    def queued(self, record: ScenarioRecord) -> None:
        """`record` was queued by this process: look for work now, unless its session
        runs a scenario here (its turn comes when that run ends, which looks again)."""
        with self._lock:
            if any(run.record.session_id == record.session_id for run in self._runs.values()):
                return
            self._may_claim += 1
        self._wake.set()

    @property
    def running(self) -> list[str]:
        with self._lock:
            return list(self._runs)

    # -- the loop ------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._fill()
                self._flush_progress()
                self._housekeeping()
            except Exception:
                log.exception("dispatcher iteration failed; retrying")
                time.sleep(self.poll_interval)
            if not self._wake.wait(self.poll_interval):
                with self._lock:  # the poll: look until nothing is claimable
                    self._may_claim = self.executor.capacity
            self._wake.clear()

    def _fill(self) -> None:
        """Claim and start runs while there is room and a claim may succeed. One
        thread at a time: another that finds it busy leaves the work to it."""
        if not self._filling.acquire(blocking=False):
            return  # the thread filling checks again when it is done
        try:
            self._claim_and_start()
        finally:
            self._filling.release()
        with self._lock:
            # A claim asked for after this thread's last look: the dispatcher's turn.
            more = self._may_claim > 0 and len(self._runs) < self.executor.capacity
        if more:
            self._wake.set()

    def _claim_and_start(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                looking = self._may_claim
                if len(self._runs) >= self.executor.capacity or looking <= 0:
                    return
            record = self.lifecycle.claim(self.owner, utcnow() + self.lease)
            with self._lock:
                # Found nothing: what asked for this look is answered (not what came
                # meanwhile, which set the wake event and looks again).
                self._may_claim -= 1 if record is not None else looking
            if record is None:
                return
            self._start(record)

    def _start(self, record: ScenarioRecord) -> None:
        # The first report of a run is written at once, so that followers see the run
        # move; later ones wait their turn (a few writes a second on shared stores).
        run = _Run(record, flushed_at=-math.inf)
        algorithm = self.algorithms.get(record.algorithm)
        # The run's own limit (or the configured one) and the algorithm's: the smaller.
        candidates = (
            record.timeout or self.run_timeout,
            algorithm.timeout if algorithm is not None else None,
        )
        limits = [limit for limit in candidates if limit is not None]
        if limits:
            run.deadline = time.monotonic() + min(limits)
        with self._lock:
            self._runs[record.id] = run
        trace_context = self.observers.run_started(record) if self.observers else None
        try:
            if algorithm is None:
                raise LookupError(f"algorithm {record.algorithm!r} is not registered")
            # The version the scenario is pinned to: a re-run reads the same data.
            data = self.store.get_dataset(
                record.session_id, record.dataset_key, record.dataset_version
            )
            if record.data_parameters:
                # A shallow copy: the stored (cached) dataset keeps its own values.
                data = copy.copy(data)
                data.data_parameters = {**data.data_parameters, **record.data_parameters}
            run.lineage = run_lineage(record, algorithm, executor_name(self.executor))
            request = RunRequest(
                record.id, algorithm, record.parameters, data, trace_context, record.seed
            )
            handle = self.executor.submit(
                request,
                lambda p, m: self._on_progress(record.id, p, m),
                lambda outcome: self._on_done(record.id, outcome),
            )
            log.info(
                "scenario %s (%r): run started, algorithm %r on dataset %r",
                record.id,
                record.tag,
                record.algorithm,
                record.dataset_key,
                extra={"scenario_id": record.id, "event": "run-started"},
            )
            with self._lock:
                run.handle = handle
                # A cancel that came while the executor was starting the run.
                stop_now = run.stop_reason is not None
            if stop_now:
                handle.cancel()
        except Exception as exc:
            log.exception("could not start scenario %s", record.id)
            self._on_done(record.id, RunOutcome(error=f"could not start the run: {exc}"))

    def _on_progress(self, scenario_id: str, progress: float, message: str | None) -> None:
        """A report from a run, in its own thread. A memory store takes it at once (a
        dictionary write). On a shared store the algorithm never waits for the store:
        the report is kept, and the dispatcher's thread writes the run's first report
        at once and later ones every `progress_interval` (`_flush_progress`); a run
        that ends first has its end written instead."""
        if not self.progress_interval:
            with self._lock:
                if scenario_id not in self._runs:
                    return
            self.lifecycle.report_progress(scenario_id, progress, message)
            return
        with self._lock:
            run = self._runs.get(scenario_id)
            if run is None:
                return
            run.progress, run.message = progress, message
            if run.flushed_at == -math.inf and run.first is None:
                run.first = (progress, message)
            else:
                run.dirty = True
            due = (
                run.first is not None or time.monotonic() - run.flushed_at >= self.progress_interval
            )
        if due:
            self._wake.set()

    def _flush_progress(self) -> None:
        """Write the reports that are due (see `_on_progress`)."""
        now = time.monotonic()
        due: list[tuple[str, float, str | None]] = []
        with self._lock:
            for scenario_id, run in self._runs.items():
                if run.first is not None:
                    due.append((scenario_id, *run.first))
                    run.first, run.flushed_at = None, now
                elif run.dirty and now - run.flushed_at >= self.progress_interval:
                    due.append((scenario_id, run.progress, run.message))
                    run.dirty, run.flushed_at = False, now
        for scenario_id, progress, message in due:
            self.lifecycle.report_progress(scenario_id, progress, message)

    def _on_done(self, scenario_id: str, outcome: RunOutcome) -> None:
        with self._lock:
            run = self._runs.pop(scenario_id, None)
        if run is None:
            return
        written: ScenarioRecord | None = None
        try:
            written = self._record_outcome(run, outcome)
            self._log_end(run, written)
        except Exception:
            log.exception("recording the outcome of scenario %s failed", scenario_id)
            written = self._fail(scenario_id, "internal error while recording the result")
        if self.observers:
            seconds = time.monotonic() - run.started_at
            ended = outcome_name(run.stop_reason, outcome, written)
            self.observers.run_ended(run.record, ended, seconds, outcome)
        # Its session may have another queued: start it from this thread, without a
        # hand-over to the dispatcher's.
        with self._lock:
            self._may_claim += 1
        try:
            self._fill()
        except Exception:
            log.exception("starting the next run after scenario %s failed", scenario_id)
            self._wake.set()

    @staticmethod
    def _log_end(run: _Run, record: ScenarioRecord | None) -> None:
        seconds = time.monotonic() - run.started_at
        extra = {"scenario_id": run.record.id, "event": "run-ended", "seconds": round(seconds, 3)}
        if record is None:
            log.info(
                "scenario %s (%r): run ended after %.2f s; cancelled or deleted meanwhile",
                run.record.id,
                run.record.tag,
                seconds,
                extra=extra,
            )
        elif record.status is S.COMPLETE:
            log.info(
                "scenario %s (%r): run complete in %.2f s",
                record.id,
                record.tag,
                seconds,
                extra=extra | {"status": "complete"},
            )
        else:
            log.warning(
                "scenario %s (%r): run failed after %.2f s: %s",
                record.id,
                record.tag,
                seconds,
                record.error,
                extra=extra | {"status": record.status.value},
            )

    def _record_outcome(self, run: _Run, outcome: RunOutcome) -> ScenarioRecord | None:
        """Write how the run ended; the scenario as written (None if it was deleted
        or cancelled meanwhile)."""
        scenario_id = run.record.id
        if run.stop_reason is not None or outcome.cancelled:
            return self._fail(scenario_id, run.stop_reason or CANCELLED, run.lineage)
        if outcome.error is not None:
            if outcome.traceback:
                log.error("scenario %s failed:\n%s", scenario_id, outcome.traceback)
            return self._fail(scenario_id, outcome.error, run.lineage)
        assert outcome.result is not None
        try:
            kpis = kpi_values(self.kpis, outcome.result)
            payload = outcome.result.to_dict()
            # Results must survive a round trip through JSON (and the SQL stores).
            payload = orjson.loads(
                orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
            )
        except KpiError as exc:
            return self._fail(scenario_id, str(exc), run.lineage)
        except (TypeError, orjson.JSONEncodeError) as exc:
            return self._fail(
                scenario_id, f"the result cannot be serialised to JSON: {exc}", run.lineage
            )
        tables = outcome.result.tables()
        done = self.lifecycle.complete(
            scenario_id,
            payload,
            kpis,
            DataSource(f"result of {scenario_id}", tables=tables) if tables else None,
            **run.lineage,
        )
        if done is None:
            log.info("scenario %s finished but was cancelled or deleted meanwhile", scenario_id)
        return done

    def _fail(
        self, scenario_id: str, error: str, lineage: dict[str, Any] | None = None
    ) -> ScenarioRecord | None:
        return self.lifecycle.move(
            scenario_id, S.FAILED, source=S.PROCESSING, error=error, **(lineage or {})
        )

    # -- cancellation, leases, recovery --------------------------------------
    def cancel(self, scenario_id: str, reason: str = CANCELLED) -> bool:
        """Stop a run this process owns; False if it runs elsewhere (or nowhere)."""
        with self._lock:
            run = self._runs.get(scenario_id)
            if run is None:
                return False
            run.stop_reason = run.stop_reason or reason
            handle = run.handle
        if handle is not None:
            handle.cancel()
        return True

    def _housekeeping(self) -> None:
        now_mono = time.monotonic()
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            if run.deadline is not None and now_mono > run.deadline and run.stop_reason is None:
                self.cancel(run.record.id, "timed out: the run took longer than its time limit")
        # Other processes may ask for a cancel through a shared store: look every second.
        interval = min(self.lease.total_seconds() / 3, 1.0 if self.store.shared else 10.0)
        if now_mono - self._last_housekeeping < interval:
            return
        self._last_housekeeping = now_mono
        now = utcnow()
        if runs:  # leases are held only while running here
            for record in self.store.renew_leases(self.owner, now + self.lease):
                if record.cancel_requested:
                    self.cancel(record.id)
        self.reap(now)
        self._prune_audit(now, now_mono)

    def _prune_audit(self, now: datetime, now_mono: float) -> None:
        """Drop audit records older than the retention, once an hour (and at start)."""
        if self.audit_retention is None or now_mono - self._last_audit_prune < AUDIT_PRUNE_SECONDS:
            return
        self._last_audit_prune = now_mono
        dropped = self.store.audit.prune(now - self.audit_retention)
        if dropped:
            log.info("pruned %d audit records older than %s", dropped, self.audit_retention)

    def reap(self, now: datetime | None = None) -> list[str]:
        """Fail (or re-queue) runs whose owner is gone; returns their ids."""
        now = now or utcnow()
        candidates = {r.id: r for r in self.store.expired_runs(now)}
        dead = [o for o in self.store.active_owners() if o != self.owner and owner_is_dead(o)]
        for record in self.store.runs_held_by(dead):
            candidates[record.id] = record
        reaped = []
        for record in candidates.values():
            if record.lease_owner == self.owner and record.id in self._runs:
                continue
            failed = self.lifecycle.move(
                record.id, S.FAILED, source=S.PROCESSING, error=INTERRUPTED
            )
            if failed is None:
                continue
            reaped.append(record.id)
            if self.observers:
                since = record.started_at or failed.finished_at or now
                seconds = max(0.0, ((failed.finished_at or now) - since).total_seconds())
                self.observers.run_ended(record, "interrupted", seconds, None)
            log.warning("scenario %s was interrupted (owner %s)", record.id, record.lease_owner)
            if self.requeue_interrupted:
                self.lifecycle.move(record.id, S.QUEUED, source=S.FAILED)
        return reaped

    def recover(self) -> list[str]:
        """At start-up: settle runs left behind by processes that died."""
        return self.reap()
