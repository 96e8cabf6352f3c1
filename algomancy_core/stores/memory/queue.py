"""The run queue in memory: transitions, claims, progress, intermediate values,
cancels and leases."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from algomancy_core.reports import REPORTS_KEPT, Report, thin
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, Transition, utcnow
from algomancy_core.stores.memory.state import MemoryState


class MemoryQueue(MemoryState):
    """Scenario moves: each one atomic under the lock."""

    def apply_transition(self, scenario_id: str, transition: Transition) -> ScenarioRecord | None:
        return self.apply_transitions([(scenario_id, transition)])[0]

    def apply_transitions(
        self, moves: Sequence[tuple[str, Transition]]
    ) -> list[ScenarioRecord | None]:
        written: list[ScenarioRecord | None] = []
        with self._lock:
            for scenario_id, transition in moves:
                record = self._scenarios.get(scenario_id)
                if (
                    record is None
                    or record.status not in transition.source
                    or (transition.unless_cancel_requested and record.cancel_requested)
                ):
                    written.append(None)
                else:
                    written.append(self._apply(record, transition))
        return written

    def _apply(self, record: ScenarioRecord, transition: Transition) -> ScenarioRecord:
        changes = transition.changes
        if transition.stamped:
            now = utcnow()
            changes = changes | dict.fromkeys(transition.stamped, now)
        if transition.drops_results:
            self._result_tables.pop(record.id, None)
        if transition.tables is not None:
            self._result_tables[record.id] = transition.tables
        if transition.drops_reports:
            self._reports.pop(record.id, None)
        return self._replace(record, changes)

    def claim_next(
        self, transition: Transition, *, expected: bool = False
    ) -> ScenarioRecord | None:
        with self._lock:
            found = self._runs.next_id(self._session_of)
            return None if found is None else self._apply(self._scenarios[found], transition)

    def claim_many(self, transition: Transition, count: int) -> list[ScenarioRecord]:
        claimed: list[ScenarioRecord] = []
        with self._lock:
            while len(claimed) < count:
                found = self._runs.next_id(self._session_of)
                if found is None or self._scenarios[found].batch is None:
                    break
                claimed.append(self._apply(self._scenarios[found], transition))
        return claimed

    def _session_of(self, scenario_id: str) -> str:
        return self._scenarios[scenario_id].session_id

    def update_progress(
        self, scenario_id: str, progress: float, message: str | None
    ) -> ScenarioRecord | None:
        with self._lock:
            record = self._scenarios.get(scenario_id)
            if record is None or record.status is not ScenarioStatus.PROCESSING:
                return None
            return self._replace(record, {"progress": progress, "progress_message": message})

    def add_reports(self, scenario_id: str, reports: list[Report]) -> bool:
        with self._lock:
            record = self._scenarios.get(scenario_id)
            if record is None or record.status is not ScenarioStatus.PROCESSING:
                return False
            kept = self._reports.setdefault(scenario_id, [])
            kept.extend(reports)
            if len(kept) > REPORTS_KEPT:  # thinned by half: amortised, a report costs O(1)
                self._reports[scenario_id] = thin(kept)
            return True

    def get_reports(self, scenario_id: str) -> list[Report]:
        with self._lock:
            return list(self._reports.get(scenario_id, ()))

    def request_cancel(self, scenario_id: str, **fields: Any) -> bool:
        with self._lock:
            record = self._scenarios.get(scenario_id)
            if record is None or record.status is not ScenarioStatus.PROCESSING:
                return False
            self._replace(record, {**fields, "cancel_requested": True})
            return True

    def renew_leases(self, owner: str, lease_until: datetime) -> list[ScenarioRecord]:
        with self._lock:
            renewed = []
            for scenario_id in list(self._runs.processing):
                record = self._scenarios[scenario_id]
                if record.lease_owner == owner:
                    record = record.copy(lease_expires_at=lease_until)
                    self._scenarios[scenario_id] = record
                    renewed.append(record)
            return renewed

    def expired_runs(self, now: datetime) -> list[ScenarioRecord]:
        with self._lock:
            records = [self._scenarios[i] for i in self._runs.processing]
        return [r for r in records if r.lease_expires_at is not None and r.lease_expires_at < now]

    def runs_held_by(self, owners: Iterable[str]) -> list[ScenarioRecord]:
        wanted = set(owners)
        with self._lock:
            records = [self._scenarios[i] for i in self._runs.processing]
        return [r for r in records if r.lease_owner in wanted]

    def active_owners(self) -> list[str]:
        with self._lock:
            owners = {self._scenarios[i].lease_owner for i in self._runs.processing}
        return sorted(o for o in owners if o is not None)

    def count_by_status(self, session_id: str | None = None) -> dict[ScenarioStatus, int]:
        counts = dict.fromkeys(ScenarioStatus, 0)
        with self._lock:
            for record in self._scenarios.values():
                if session_id is None or record.session_id == session_id:
                    counts[record.status] += 1
        return counts

    def oldest_queued_at(self) -> datetime | None:
        with self._lock:
            times = [
                r.queued_at
                for r in self._scenarios.values()
                if r.status is ScenarioStatus.QUEUED and r.queued_at is not None
            ]
        return min(times, default=None)
