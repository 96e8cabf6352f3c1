"""Leases: who owns a run and until when; cancellation, time limits and the reaping of
runs whose owner died."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import datetime
from typing import Any

from algomancy_core.dispatcher.runs import RunsHeld
from algomancy_core.executors.base import RunHandle
from algomancy_core.scenario import (
    CANCELLED,
    INTERRUPTED,
    ScenarioStatus,
    stop_fields,
    utcnow,
)

log = logging.getLogger("algomancy.dispatcher")

S = ScenarioStatus

#: How often housekeeping drops audit records past their retention.
AUDIT_PRUNE_SECONDS = 3600.0


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


def started(handle: RunHandle | None) -> bool:
    """Whether the executor started the run of `handle` (a run waiting for a free
    worker has not; executors that do not say are taken to have started it)."""
    if handle is None:
        return False
    said = getattr(handle, "started", True)  # the process executor's: a method;
    return bool(said() if callable(said) else said)  # Dask's: a flag


class Leases(RunsHeld):
    """Renews the leases of the runs held here, stops the runs to stop, and settles
    runs left behind by dead owners."""

    # -- cancellation, leases, recovery --------------------------------------
    def cancel(self, scenario_id: str, reason: str = CANCELLED, **fields: Any) -> bool:
        """Stop a run this process owns; False if it runs elsewhere (or nowhere). It
        fails with `error` `reason`, and `fields` (a pruned run's, `stop_fields`)."""
        with self._lock:
            run = self._runs.get(scenario_id)
            if run is None:
                return False
            if run.stop_reason is None:
                run.stop_reason, run.stop_fields = reason, fields
            handle = run.handle
        if handle is not None:
            handle.cancel()
        return True

    def _housekeeping(self) -> None:
        now_mono = time.monotonic()
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            if run.limit is not None and not started(run.handle):
                # Claimed ahead of a free worker (`Dispatcher`): its time has not begun.
                run.deadline = now_mono + run.limit
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
                    stop = stop_fields(record)
                    self.cancel(record.id, stop.pop("error"), **stop)
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
                # Again under the trace of the request that queued it.
                self.lifecycle.move(
                    record.id, S.QUEUED, source=S.FAILED, trace_context=record.trace_context
                )
        return reaped

    def recover(self) -> list[str]:
        """At start-up: settle runs left behind by processes that died."""
        return self.reap()
