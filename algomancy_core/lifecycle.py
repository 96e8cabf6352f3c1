"""`Lifecycle`: the one owner of scenario status changes.

Every move of a scenario (run, cancel, claim, complete, fail, interrupt, copy) goes
through here: the move is planned by the state machine (`plan_transition`), applied
through the store's compare-and-set, and announced to waiters and event streams; a
move to `queued` also wakes the dispatcher. The stores only store: the cleanup a
move implies (the previous run's result tables) is part of the planned transition,
which the store applies in the same atomic write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from algomancy_core.change_hub import ChangeHub
from algomancy_core.changes import STATUS_KINDS, scenario_payload
from algomancy_core.events import Notifier
from algomancy_core.observe import Observers
from algomancy_core.reports import Report
from algomancy_core.scenario import (
    ScenarioRecord,
    ScenarioStatus,
    Transition,
    plan_claim,
    plan_copy,
    plan_transition,
    pruned_at,
    stop_fields,
)
from algomancy_core.stores.base import Store
from algomancy_data import DataSource

log = logging.getLogger("algomancy.lifecycle")

S = ScenarioStatus


class Completion(NamedTuple):
    """A processing scenario's finished run (`Lifecycle.complete_many`)."""

    scenario_id: str
    result: dict[str, Any]
    kpis: Mapping[str, float | None]
    tables: DataSource | None
    #: More fields written with it (the run's lineage).
    fields: dict[str, Any]


class Lifecycle:
    """Applies and announces scenario transitions for one process.

    `on_queued` is called with each scenario that became queued (the dispatcher's
    `queued`: it runs them, it does not listen). Listeners are `observers`, the
    runtime's one list (`algomancy_core.observe`): told when a run is queued,
    withdrawn, settled (complete or failed) and when it reports intermediate values.
    Each change is also recorded in the session's change feed (`changes`).
    """

    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        on_queued: Callable[[ScenarioRecord], None] | None = None,
        changes: ChangeHub | None = None,
        observers: Observers | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.on_queued = on_queued
        self.changes = changes if changes is not None else ChangeHub(lambda: store)
        self.observers = observers if observers is not None else Observers()

    def move(
        self,
        scenario_id: str,
        target: ScenarioStatus,
        *,
        source: ScenarioStatus | frozenset[ScenarioStatus] | None = None,
        **fields: Any,
    ) -> ScenarioRecord | None:
        """Move the scenario to `target` if it is in `source` (default: any state
        that leads there). The record as written, or None when it is absent or in
        another state (someone else moved it first)."""
        return self.apply([(scenario_id, plan_transition(target, source=source, **fields))])[0]

    def apply(self, moves: Sequence[tuple[str, Transition]]) -> list[ScenarioRecord | None]:
        """Apply planned moves (`plan_transition`) in one write and announce those
        that applied: the record as written of each, None where it did not."""
        written = self.store.apply_transitions(moves)
        self._announce([record for record in written if record is not None])
        if self.observers:
            for (_, transition), record in zip(moves, written, strict=True):
                if (
                    record is not None
                    and record.status is S.FAILED
                    and transition.source == {S.QUEUED}
                ):
                    self.observers.run_withdrawn(record)
        return written

    def claim(
        self, owner: str, lease_until: datetime, *, expected: bool = False
    ) -> ScenarioRecord | None:
        """Start the oldest runnable queued scenario, leased to `owner`; `expected`: a
        scenario was queued since the caller's last look (`Store.claim_next`)."""
        record = self.store.claim_next(plan_claim(owner, lease_until), expected=expected)
        if record is not None:
            self._announce([record])
        return record

    def claim_points(self, owner: str, lease_until: datetime, count: int) -> list[ScenarioRecord]:
        """Start up to `count` queued experiments' points, leased to `owner`, in one
        write; none past a session's own scenario (`Store.claim_many`)."""
        records = self.store.claim_many(plan_claim(owner, lease_until), count)
        self._announce(records)
        return records

    def complete_many(self, ends: Sequence[Completion]) -> list[ScenarioRecord | None]:
        """Processing scenarios finished: complete each with its result tables (and
        `fields`, such as the run's lineage), all in one write; the records as
        written (None for one deleted meanwhile).

        One write (one transaction on SQL) for the tables, the moves and their change
        feed entries: a complete scenario always has its tables, and a refused
        completion (a cancel won) stores none. Quick runs that end together are
        recorded together (`Dispatcher._on_done_many`)."""
        done = self.apply(
            [
                (
                    end.scenario_id,
                    plan_transition(
                        S.COMPLETE,
                        source=S.PROCESSING,
                        tables=end.tables,
                        result=end.result,
                        kpis=dict(end.kpis),
                        **end.fields,
                    ),
                )
                for end in ends
            ]
        )
        refused = [n for n, record in enumerate(done) if record is None]
        if refused:
            # Still processing means a cancel (or a prune) was accepted before the
            # result was written (the move refuses a flagged scenario): it wins.
            stops = []
            for n in refused:
                scenario_id, fields = ends[n].scenario_id, ends[n].fields
                stop = stop_fields(self.store.get_scenario_by_id(scenario_id))
                stops.append(
                    (scenario_id, plan_transition(S.FAILED, source=S.PROCESSING, **(fields | stop)))
                )
            for n, record in zip(refused, self.apply(stops), strict=True):
                done[n] = record
        return done

    def report_progress(self, scenario_id: str, progress: float, message: str | None) -> None:
        """Progress of a processing scenario (not a transition; announced all the same).
        Nothing is written or announced once it is no longer processing."""
        record = self.store.update_progress(scenario_id, progress, message)
        if record is not None:
            self.notifier.publish(scenario_id, record)
            self._record_many([("scenario.progress", record)])

    def add_reports(self, scenario_id: str, reports: list[Report]) -> None:
        """Intermediate values of a processing scenario's run (not a transition, not
        announced on the streams): kept with the run, then told to the observers.
        Nothing is written once it is no longer processing."""
        if self.store.add_reports(scenario_id, reports) and self.observers:
            self.observers.run_reported(scenario_id, reports)

    def request_cancel(self, scenario_id: str) -> bool:
        """Flag a processing scenario; whoever runs it stops it and fails it. False
        when it is no longer processing (the cancel came too late). Once flagged it
        cannot complete: a run that ends meanwhile is failed as cancelled."""
        return self.store.request_cancel(scenario_id)

    def request_prune(self, scenario_id: str, step: int) -> bool:
        """`request_cancel` of a run judged not promising at `step`: it is marked
        `pruned`, and fails with `error` (and last `progress_message`) `pruned at
        step {step}` (`scenario.stop_fields`). False when it is not processing."""
        return self.store.request_cancel(scenario_id, pruned=True, error=pruned_at(step))

    def copy(self, record: ScenarioRecord, scenario_id: str, session_id: str) -> ScenarioRecord:
        """Add a copy of `record` to another session (see `plan_copy`), with the
        result tables of a complete one."""
        copied = plan_copy(record, scenario_id, session_id)
        self.store.add_scenario(copied)
        if copied.status is S.COMPLETE:
            tables = self.store.get_result_tables(record.id)
            if tables is not None:
                self.store.put_result_tables(copied.id, tables)
        self.created(copied)
        return copied

    def created(self, record: ScenarioRecord) -> None:
        """Announce a new scenario (added to the store already)."""
        self.created_many([record])

    def created_many(self, records: Sequence[ScenarioRecord]) -> None:
        """Announce new scenarios (added to the store already), with one append to
        the change feed and one wake of its followers."""
        self._record_many([("scenario.created", record) for record in records])

    def deleted(self, record: ScenarioRecord) -> None:
        """Announce that a scenario is gone."""
        self.notifier.publish(record.id)
        self.changes.record(
            record.session_id,
            "scenario.deleted",
            record.id,
            {"scenario": {"id": record.id, "tag": record.tag}},
        )

    def _announce(self, records: Sequence[ScenarioRecord]) -> None:
        """Tell of moves written: to waiters and the change feed (one append), then
        to the dispatcher and the observers, each record in order."""
        for record in records:
            self.notifier.publish(record.id, record)
        self._record_many([(STATUS_KINDS[record.status], record) for record in records])
        for record in records:
            if record.status is S.QUEUED:
                if self.observers:
                    self.observers.run_queued(record)
                if self.on_queued is not None:
                    self.on_queued(record)
            if record.status.is_terminal and self.observers:
                self.observers.run_settled(record)

    def _record_many(self, entries: Sequence[tuple[str, ScenarioRecord]]) -> None:
        """Record `(kind, record)` changes in the feed, in one append."""
        if not entries:
            return
        if self.store.records_scenario_changes:
            self.changes.wake()  # appended in the store's own write already
        else:
            self.changes.record_many(
                [(r.session_id, kind, r.id, scenario_payload(r)) for kind, r in entries]
            )
