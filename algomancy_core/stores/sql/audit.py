"""The audit trail and the webhook delivery queue in SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algomancy_core.audit import OK, AuditQuery, AuditRecord, PendingAudit
from algomancy_core.deliveries import Delivery, DeliveryStatus
from algomancy_core.stores.sql.schema import audit_log, webhook_deliveries

if TYPE_CHECKING:
    from algomancy_core.stores.sql.database import Database


def insert_audit(conn: Connection, record: AuditRecord) -> None:
    conn.execute(
        sa.insert(audit_log).values(
            at=record.at,
            user_name=record.user,
            kind=record.kind,
            session_id=record.session_id,
            subject=orjson.dumps(record.subject).decode(),
            summary=record.summary,
            client=record.client,
            outcome=record.outcome,
        )
    )


#: The plain-SQL insert of an audit record, for the transactions on the hot paths
#: (`SQLDialect.transaction`); its parameters come from `pending_row`.
AUDIT_INSERT = (
    "INSERT INTO audit_log (at, user_name, kind, session_id, subject, summary, client, outcome)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def pending_row(pending: PendingAudit, encode_time: Callable[[datetime], Any]) -> tuple[Any, ...]:
    r = pending.record(OK)
    subject = orjson.dumps(r.subject).decode()
    return (encode_time(r.at), r.user, r.kind, r.session_id, subject, r.summary, r.client, OK)


def write_pending(conn: Connection, pending: PendingAudit) -> None:
    """Insert the audit of the write `conn` makes, in its transaction."""
    insert_audit(conn, pending.record(OK))


class SQLAuditLog:
    """Audit records in the `audit_log` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, record: AuditRecord) -> None:
        with self.db.write(audited=False) as conn:
            insert_audit(conn, record)

    def query(self, query: AuditQuery) -> list[AuditRecord]:
        t = audit_log
        stmt = sa.select(t).order_by(t.c.id.desc()).limit(query.limit).offset(query.offset)
        if query.user is not None:
            stmt = stmt.where(t.c.user_name == query.user)
        if query.session_id is not None:
            stmt = stmt.where(t.c.session_id == query.session_id)
        if query.kind is not None:
            stmt = stmt.where(t.c.kind == query.kind)
        if query.since is not None:
            stmt = stmt.where(t.c.at >= query.since)
        if query.until is not None:
            stmt = stmt.where(t.c.at < query.until)
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
        return [
            AuditRecord(
                id=m["id"],
                at=m["at"],
                user=m["user_name"],
                kind=m["kind"],
                session_id=m["session_id"],
                subject=orjson.loads(m["subject"]),
                summary=m["summary"],
                client=m["client"],
                outcome=m["outcome"],
            )
            for m in (row._mapping for row in rows)
        ]

    def prune(self, before: datetime) -> int:
        with self.db.write(audited=False) as conn:
            return conn.execute(sa.delete(audit_log).where(audit_log.c.at < before)).rowcount


def _delivery(m: sa.RowMapping) -> Delivery:
    return Delivery(
        id=m["id"],
        event=m["event"],
        url=m["url"],
        payload=m["payload"],
        status=DeliveryStatus(m["status"]),
        attempts=m["attempts"],
        last_error=m["last_error"],
        created_at=m["created_at"],
        next_attempt_at=m["next_attempt_at"],
        claimed_by=m["claimed_by"],
        claim_until=m["claim_until"],
    )


class SQLDeliveryQueue:
    """Deliveries in the `webhook_deliveries` table; a claim is a compare-and-set
    on the row, so two processes never hold one delivery."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        with self.db.write(audited=False) as conn:
            conn.execute(
                sa.insert(webhook_deliveries),
                [
                    {
                        "id": d.id,
                        "event": d.event,
                        "url": d.url,
                        "payload": d.payload,
                        "status": d.status.value,
                        "attempts": d.attempts,
                        "last_error": d.last_error,
                        "created_at": d.created_at,
                        "next_attempt_at": d.next_attempt_at,
                    }
                    for d in deliveries
                ],
            )

    def claim(self, owner: str, now: datetime, until: datetime) -> Delivery | None:
        t = webhook_deliveries
        free = sa.or_(t.c.claim_until.is_(None), t.c.claim_until < now)
        due = sa.and_(t.c.status == DeliveryStatus.PENDING.value, t.c.next_attempt_at <= now, free)
        for _ in range(5):
            with self.db.write(audited=False) as conn:
                row = conn.execute(
                    sa.select(t.c.id).where(due).order_by(t.c.next_attempt_at).limit(1)
                ).first()
                if row is None:
                    return None
                taken = conn.execute(
                    sa.update(t)
                    .where(t.c.id == row[0], due)
                    .values(claimed_by=owner, claim_until=until)
                ).rowcount
                if taken:
                    held = conn.execute(sa.select(t).where(t.c.id == row[0])).one()
                    return _delivery(held._mapping)
        return None  # others keep winning: try on the next round

    def finish(
        self,
        delivery_id: str,
        owner: str,
        *,
        status: DeliveryStatus,
        attempts: int,
        last_error: str | None,
        next_attempt_at: datetime,
    ) -> bool:
        t = webhook_deliveries
        with self.db.write(audited=False) as conn:
            return bool(
                conn.execute(
                    sa.update(t)
                    .where(t.c.id == delivery_id, t.c.claimed_by == owner)
                    .values(
                        status=status.value,
                        attempts=attempts,
                        last_error=last_error,
                        next_attempt_at=next_attempt_at,
                        claimed_by=None,
                        claim_until=None,
                    )
                ).rowcount
            )

    def list(
        self, status: DeliveryStatus | None = None, limit: int = 100, offset: int = 0
    ) -> list[Delivery]:
        t = webhook_deliveries
        stmt = sa.select(t).order_by(t.c.created_at.desc(), t.c.id).limit(limit).offset(offset)
        if status is not None:
            stmt = stmt.where(t.c.status == status.value)
        with self.db.read() as conn:
            return [_delivery(row._mapping) for row in conn.execute(stmt).all()]
