"""What the memory store's experiment and study books share: records kept by id, each
in one session, under a name unique in that session."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class SessionRecord(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=SessionRecord)


class MemorySessionRecords(Generic[R]):
    """Records by id under one lock; `taken(name)` and `missing(id)` make the errors
    of a name used twice in a session and of an id not in the session."""

    def __init__(
        self, taken: Callable[[str], Exception], missing: Callable[[str], Exception]
    ) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, R] = {}
        self._taken, self._missing = taken, missing

    def _add(self, record: R) -> None:
        """Keep `record`, its name not yet used in its session; the lock is held."""
        if any(
            r.session_id == record.session_id and r.name == record.name
            for r in self._records.values()
        ):
            raise self._taken(record.name)
        self._records[record.id] = record

    def _mine(self, session_id: str, record_id: str) -> R:
        """The record `record_id` of `session_id`, else `missing`; the lock is held."""
        found = self._records.get(record_id)
        if found is None or found.session_id != session_id:
            raise self._missing(record_id)
        return found

    def get(self, session_id: str, record_id: str) -> R | None:
        with self._lock:
            found = self._records.get(record_id)
        return found if found is not None and found.session_id == session_id else None

    def list(self, session_id: str) -> builtins.list[R]:
        with self._lock:
            return [r for r in self._records.values() if r.session_id == session_id]

    def _forget(self, session_id: str) -> builtins.list[str]:
        """Drop the records of `session_id` and say their ids; the lock is held."""
        ids = [r.id for r in self._records.values() if r.session_id == session_id]
        for record_id in ids:
            del self._records[record_id]
        return ids

    def forget_session(self, session_id: str) -> None:
        with self._lock:
            self._forget(session_id)
