"""The memory store's run queue: which queued scenario a claim takes next.

The rule is the SQL store's (`stores/sql/claims.py`), kept in indexes updated with
each change of status so that a claim never walks the whole queue:

- a session's own scenarios (`batch` None) first, the oldest queued of a session
  with none of its own processing (one at a time per session);
- then batch scenarios: the oldest queued of the batch with the fewest processing,
  the batch served least recently first (round robin), then the oldest head.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from algomancy_core.scenario import ScenarioRecord, ScenarioStatus

S = ScenarioStatus


class RunQueue:
    """Queued and processing scenario ids, indexed for claims. Not locked: the
    store calls it under its own lock."""

    def __init__(self) -> None:
        # A session's own queued scenarios, in queue order (dicts keep insertion order).
        self.own: dict[str, None] = {}
        # Batch -> its queued scenario ids in queue order; only batches with some.
        self.batches: dict[str, dict[str, None]] = {}
        # Each queued id's place in the queue (across own and batch scenarios).
        self.seq: dict[str, int] = {}
        # Session id -> its own processing scenario (at most one).
        self.sessions: dict[str, str] = {}
        # Every processing scenario id.
        self.processing: dict[str, None] = {}
        # Batch -> how many of it are processing; batch -> when it was last served
        # (kept, as the SQL store keeps its runs' start times: one int per batch).
        self.busy: dict[str, int] = {}
        self.served: dict[str, int] = {}
        self._counter = itertools.count(1)

    def index(self, record: ScenarioRecord) -> None:
        """Keep the indexes in step with `record`, whose status changed."""
        self._unqueue(record)
        if record.status is S.QUEUED:
            self.seq[record.id] = next(self._counter)
            if record.batch is None:
                self.own[record.id] = None
            else:
                self.batches.setdefault(record.batch, {})[record.id] = None
        if record.status is S.PROCESSING:
            self._start(record)
        else:
            self._stop(record)

    def drop(self, record: ScenarioRecord) -> None:
        """`record` is deleted."""
        self._unqueue(record)
        self._stop(record)

    def _unqueue(self, record: ScenarioRecord) -> None:
        if self.seq.pop(record.id, None) is None:
            return
        if record.batch is None:
            self.own.pop(record.id, None)
            return
        queued = self.batches.get(record.batch)
        if queued is not None:
            queued.pop(record.id, None)
            if not queued:
                del self.batches[record.batch]

    def _start(self, record: ScenarioRecord) -> None:
        if record.id in self.processing:
            return
        self.processing[record.id] = None
        if record.batch is None:
            self.sessions[record.session_id] = record.id
        else:
            self.busy[record.batch] = self.busy.get(record.batch, 0) + 1
            self.served[record.batch] = next(self._counter)

    def _stop(self, record: ScenarioRecord) -> None:
        if record.id not in self.processing:
            return
        del self.processing[record.id]
        if record.batch is None:
            if self.sessions.get(record.session_id) == record.id:
                del self.sessions[record.session_id]
            return
        left = self.busy.get(record.batch, 1) - 1
        if left > 0:
            self.busy[record.batch] = left
        else:
            self.busy.pop(record.batch, None)

    def next_id(self, session_of: Callable[[str], str]) -> str | None:
        """The id a claim takes now, or None; `session_of` gives a queued own
        scenario's session."""
        for scenario_id in self.own:
            if session_of(scenario_id) not in self.sessions:
                return scenario_id
        best: tuple[int, int, int] | None = None
        chosen: str | None = None
        for batch, queued in self.batches.items():
            head = next(iter(queued))
            key = (self.busy.get(batch, 0), self.served.get(batch, 0), self.seq[head])
            if best is None or key < best:
                best, chosen = key, head
        return chosen
