"""The audit log's insert and its parameters: written by the audit log itself and,
in the same transaction as each audited change, by the store's write paths
(`transaction.py`, `database.py`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from algomancy_core.audit import OK, AuditRecord, PendingAudit

#: The insert of an audit record; its parameters come from `audit_row`. Read at each
#: use (`audit_rows.AUDIT_INSERT`), so a test can swap it for one that fails.
AUDIT_INSERT = (
    "INSERT INTO audit_log (at, user_name, kind, session_id, subject, summary, client, outcome)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def audit_row(record: AuditRecord, encode_time: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """The parameters of `AUDIT_INSERT` for `record`."""
    r = record
    subject = orjson.dumps(r.subject).decode()
    return (
        encode_time(r.at),
        r.user,
        r.kind,
        r.session_id,
        subject,
        r.summary,
        r.client,
        r.outcome,
    )


def pending_row(pending: PendingAudit, encode_time: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """The parameters of `AUDIT_INSERT` for the write `pending` is the audit of."""
    return audit_row(pending.record(OK), encode_time)
