"""The audit trail: who changed what, when, from where, and how it ended.

A write that is audited runs inside `auditing(pending)`. The SQL store's write
transaction then inserts `pending` as an `ok` record in the same transaction as the
change (`stores/sql/audit.py`): the change and its record commit or roll back
together. Whatever did not end in such a transaction (a refused write, the memory
store) is appended afterwards by whoever opened the scope, with its outcome.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Protocol

from algomancy_core.scenario import utcnow

#: The outcome of a write that changed something.
OK = "ok"

#: Records the memory store keeps (oldest dropped first).
MEMORY_AUDIT_RECORDS = 10_000


@dataclasses.dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited write."""

    at: datetime
    user: str | None
    kind: str
    """What was done, `<subject>.<verb>`: `session.create`, `scenario.run`, ..."""
    session_id: str | None
    subject: dict[str, str]
    """The ids the write names (`session_id`, `scenario_id`, `data_key`, ...)."""
    summary: str
    client: str | None
    outcome: str
    """`ok`, or the status code of a refused write (`409`)."""
    id: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class AuditQuery:
    """A filter and a page of the audit trail (newest first)."""

    user: str | None = None
    session_id: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0

    def matches(self, record: AuditRecord) -> bool:
        return (
            (self.user is None or record.user == self.user)
            and (self.session_id is None or record.session_id == self.session_id)
            and (self.kind is None or record.kind == self.kind)
            and (self.since is None or record.at >= self.since)
            and (self.until is None or record.at < self.until)
        )


@dataclasses.dataclass
class PendingAudit:
    """The record of a write in progress; `written` once a transaction holds it."""

    user: str | None
    client: str | None
    summary: str
    kind: str | None = None
    subject: dict[str, str] = dataclasses.field(default_factory=dict)
    at: datetime = dataclasses.field(default_factory=utcnow)
    written: bool = False

    def record(self, outcome: str) -> AuditRecord:
        return AuditRecord(
            at=self.at,
            user=self.user,
            kind=self.kind or "unknown",
            session_id=self.subject.get("session_id"),
            subject=dict(self.subject),
            summary=self.summary,
            client=self.client,
            outcome=outcome,
        )


_pending: ContextVar[PendingAudit | None] = ContextVar("algomancy_audit", default=None)


def pending_audit() -> PendingAudit | None:
    """The audit of the write this context makes, if it has a kind and no
    transaction holds it yet."""
    pending = _pending.get()
    if pending is None or pending.written or pending.kind is None:
        return None
    return pending


def current_audit() -> PendingAudit | None:
    """The audit scope this context runs in, written or not."""
    return _pending.get()


def audit_subject(**ids: str) -> None:
    """Name ids of the audited write in progress, if any: the id of what it creates,
    or the id a name in its path stands for (before its transaction records it)."""
    pending = _pending.get()
    if pending is not None and not pending.written:
        pending.subject.update(ids)


@contextmanager
def auditing(pending: PendingAudit) -> Iterator[PendingAudit]:
    """Run the body as the audited write `pending` (threads started with a copy of
    this context, as a thread pool's are, see it too)."""
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


class AuditLog(Protocol):
    """Where audit records are kept."""

    def append(self, record: AuditRecord) -> None: ...

    def query(self, query: AuditQuery) -> list[AuditRecord]:
        """Matching records, newest first, one page."""

    def prune(self, before: datetime) -> int:
        """Drop records older than `before`; how many."""


class MemoryAuditLog:
    """The newest `MEMORY_AUDIT_RECORDS` records, in this process's memory."""

    def __init__(self, size: int = MEMORY_AUDIT_RECORDS) -> None:
        self._lock = threading.Lock()
        self._records: deque[AuditRecord] = deque(maxlen=size)
        self._next_id = 1

    def append(self, record: AuditRecord) -> None:
        with self._lock:
            self._records.append(dataclasses.replace(record, id=self._next_id))
            self._next_id += 1

    def query(self, query: AuditQuery) -> list[AuditRecord]:
        with self._lock:
            found = [r for r in reversed(self._records) if query.matches(r)]
        return found[query.offset : query.offset + query.limit]

    def prune(self, before: datetime) -> int:
        with self._lock:
            kept = [r for r in self._records if r.at >= before]
            dropped = len(self._records) - len(kept)
            self._records = deque(kept, maxlen=self._records.maxlen)
        return dropped


def record_fields(record: AuditRecord) -> dict[str, Any]:
    """A record as the JSON the API answers and the audit log line carries."""
    return {
        "id": record.id,
        "at": record.at.isoformat(),
        "user": record.user,
        "kind": record.kind,
        "session_id": record.session_id,
        "subject": record.subject,
        "summary": record.summary,
        "client": record.client,
        "outcome": record.outcome,
    }
