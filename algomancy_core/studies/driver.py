"""`StudyDriver`: the thread of each server process that drives studies.

One driver per study: each tick, for every running study, the driver takes or renews
the study's lease (owner and expiry on the study row, as the dispatcher's leases on
runs) and, when it holds it, runs one step (`steps.Step`). A driver that dies stops
renewing; once its lease has expired another process's driver claims the study and
goes on from the tables. Started and stopped with the runtime (a `Service`), and woken
whenever a run ends so that a finished trial is told at once. While a study with a
pruner runs, intermediate values reported by this process's runs also bring the next
step forward (at most every `REPORT_TICK_SECONDS`), so the pruner judges them early.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from algomancy_core.dispatcher.leases import new_owner_id, owner_is_dead
from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.observe import RunObserver
from algomancy_core.reports import Report
from algomancy_core.scenario import ScenarioRecord, utcnow
from algomancy_core.scenario_manager import ScenarioManager
from algomancy_core.studies import progress
from algomancy_core.studies.book import StudyRecord
from algomancy_core.studies.steps import LeaseLost, Step
from algomancy_core.studies.trials import is_trial

if TYPE_CHECKING:
    from algomancy_core.runtime import Runtime

log = logging.getLogger("algomancy.studies")
#: While a pruning study runs, reports bring a step forward at most this often.
REPORT_TICK_SECONDS = 0.2


class _DriverObserver(RunObserver):
    """Wakes the driver when a trial run of this process settles (it may be told),
    and notes that one reported (a pruning study may judge it).

    Only a trial's end wakes it: any other run's end has nothing to tell a study,
    and a wake costs a tick (a read of the running studies, on SQL a SQLAlchemy
    query) per scenario run. Profiled with py-spy on the server during
    "11 create+run+complete x1000, HTTP: SQLite / in memory" (`python -m
    benchmarks.bench_scenarios`): ~2.6% of the server's busy samples on SQLite."""

    def __init__(self, driver: StudyDriver) -> None:
        self.driver = driver

    def run_settled(self, record: ScenarioRecord) -> None:
        if is_trial(record):
            self.driver.wake(record)

    def run_reported(self, scenario_id: str, reports: list[Report]) -> None:
        # Told in the run's thread: only a flag is set.
        self.driver._reported = True


class StudyDriver:
    """Drives the running studies whose lease it holds or can take."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        owner: str | None = None,
        lease_seconds: float | None = None,
        idle_seconds: float = 1.0,
    ) -> None:
        self.runtime = runtime
        self.owner = owner or new_owner_id()
        self.lease = timedelta(seconds=lease_seconds or runtime.config.lease_seconds)
        #: Between ticks when no run ends; a run's end wakes the driver at once.
        self.idle_seconds = min(idle_seconds, self.lease.total_seconds() / 3)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._held: set[str] = set()
        self._observer = _DriverObserver(self)
        #: A running study has a pruner: reports are worth a step.
        self._pruning = False
        self._reported = False

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self.runtime.observers.add(self._observer)
        self._thread = threading.Thread(target=self._loop, name="algomancy-studies", daemon=True)
        self._thread.start()

    def stop(self, *, release: bool = True) -> None:
        """Stop the thread; `release=False` keeps the leases (as a process that dies
        would: another driver takes over once they expire)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        thread.join()
        self.runtime.observers.remove(self._observer)
        if release:
            for study_id in list(self._held):
                self.runtime.store.studies.release(study_id, self.owner)
        self._held.clear()

    def wake(self, record: ScenarioRecord | None = None) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            self._reported = False
            try:
                self.tick()
            except Exception:  # a broken study must not stop the others' driving
                log.exception("study driver tick failed")
            self._pause()

    def _pause(self) -> None:
        """Until a run ends (`wake`), the idle time passes or, while a pruning study
        runs, the next report tick finds new reports."""
        if not self._pruning:
            self._wake.wait(self.idle_seconds)
            return
        until = time.monotonic() + self.idle_seconds
        while (left := until - time.monotonic()) > 0:
            if self._wake.wait(min(REPORT_TICK_SECONDS, left)) or self._reported:
                return

    def _as_of(self, record: StudyRecord, now: datetime) -> datetime:
        """When to judge the study's lease: now, or just past its expiry when its
        owner was a process of this host that has died (a server restarted after a
        crash goes on at once rather than after the lease)."""
        owner, expires = record.lease_owner, record.lease_expires_at
        if owner is None or owner == self.owner or expires is None or expires < now:
            return now
        return expires + timedelta(microseconds=1) if owner_is_dead(owner) else now

    def tick(self) -> None:
        """One step of each running study this driver holds or can claim."""
        book = self.runtime.store.studies
        running = book.running()
        self._pruning = any((r.spec.get("pruner") or "none") != "none" for r in running)
        for record in running:
            if self._stopping.is_set():
                return
            now = utcnow()
            if not book.claim(record.id, self.owner, self._as_of(record, now), now + self.lease):
                self._held.discard(record.id)
                continue
            self._held.add(record.id)
            session = self.runtime.store.get_session(record.session_id)
            if session is None:
                continue
            manager = ScenarioManager(self.runtime, session)
            try:
                ended = progress.stepped(Step(manager, book, record, self.owner), now)
            except (LeaseLost, ConflictError, NotFoundError):  # taken over, or deleted
                self._held.discard(record.id)
                continue
            except Exception:
                log.exception("study %s: the step failed; tried again next tick", record.id)
                continue
            if ended.state != "running":
                self._held.discard(record.id)
