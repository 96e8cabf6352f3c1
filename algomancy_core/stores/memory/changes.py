"""The change feed in memory: the latest `CHANGES_KEPT` changes, numbered without gaps."""

from __future__ import annotations

import itertools
from typing import Any

from algomancy_core.changes import Change, ChangeEntry
from algomancy_core.scenario import utcnow
from algomancy_core.stores.memory.state import MemoryState


class MemoryChanges(MemoryState):
    """The change feed."""

    # -- the change feed -------------------------------------------------------
    def append_change(
        self, session_id: str, kind: str, subject: str, payload: dict[str, Any]
    ) -> int:
        with self._changes_lock:
            self._last_seq += 1
            self._changes.append(
                Change(self._last_seq, session_id, kind, subject, payload, utcnow())
            )
            return self._last_seq

    def append_changes(self, changes: list[ChangeEntry]) -> None:
        with self._changes_lock:
            at = utcnow()
            for session_id, kind, subject, payload in changes:
                self._last_seq += 1
                self._changes.append(Change(self._last_seq, session_id, kind, subject, payload, at))

    def read_changes(self, after: int, limit: int, session_id: str | None = None) -> list[Change]:
        with self._changes_lock:
            if not self._changes or self._changes[-1].seq <= after:
                return []
            # Numbered without gaps: the first wanted is at a known place.
            start = max(0, after + 1 - self._changes[0].seq)
            found: list[Change] = []
            for change in itertools.islice(self._changes, start, None):
                if session_id is None or change.session_id == session_id:
                    found.append(change)
                    if len(found) >= limit:
                        break
            return found

    def change_bounds(self) -> tuple[int, int]:
        with self._changes_lock:
            if not self._changes:
                return (0, 0)
            return (self._changes[0].seq, self._changes[-1].seq)
