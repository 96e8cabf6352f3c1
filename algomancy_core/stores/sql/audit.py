"""The audit trail and the webhook delivery queue in SQL (plain SQL, as every
repository of the store: see the package docstring)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from algomancy_core.audit import AuditQuery, AuditRecord
from algomancy_core.deliveries import Delivery, DeliveryStatus
from algomancy_core.stores.sql import audit_rows
from algomancy_core.stores.sql.rows import AUDIT_RECORD, DELIVERY

if TYPE_CHECKING:
    from algomancy_core.stores.sql.database import Database

_PRUNE = "DELETE FROM audit_log WHERE at < ? RETURNING id"

_DELIVERY_INSERT = (
    "INSERT INTO webhook_deliveries (id, event, url, payload, status, attempts, last_error, "
    "created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Pending, due (`next_attempt_at <= ?`) and not held (`claim_until < ?`, or none).
_DUE = (
    f"status = '{DeliveryStatus.PENDING.value}' AND next_attempt_at <= ? "
    "AND (claim_until IS NULL OR claim_until < ?)"
)
_NEXT_DUE = f"SELECT id FROM webhook_deliveries WHERE {_DUE} ORDER BY next_attempt_at LIMIT 1"
_CLAIM = (
    f"UPDATE webhook_deliveries SET claimed_by = ?, claim_until = ? WHERE id = ? AND {_DUE} "
    f"RETURNING {DELIVERY.columns}"
)
_FINISH = (
    "UPDATE webhook_deliveries SET status = ?, attempts = ?, last_error = ?, "
    "next_attempt_at = ?, claimed_by = NULL, claim_until = NULL "
    "WHERE id = ? AND claimed_by = ? RETURNING id"
)


class SQLAuditLog:
    """Audit records in the `audit_log` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def append(self, record: AuditRecord) -> None:
        dialect = self.db.dialect
        row = audit_rows.audit_row(record, dialect.encode_time)
        dialect.write(self.db.engine, audit_rows.AUDIT_INSERT, row, audited=False)

    def query(self, query: AuditQuery) -> list[AuditRecord]:
        dialect = self.db.dialect
        where: list[str] = []
        params: list[Any] = []
        for condition, value in (
            ("user_name = ?", query.user),
            ("session_id = ?", query.session_id),
            ("kind = ?", query.kind),
            ("at >= ?", query.since),
            ("at < ?", query.until),
        ):
            if value is not None:
                where.append(condition)
                params.append(dialect.encode_time(value) if isinstance(value, datetime) else value)
        sql = f"SELECT {AUDIT_RECORD.columns} FROM audit_log"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        rows = dialect.query(self.db.engine, sql, (*params, query.limit, query.offset))
        decode = AUDIT_RECORD.decoder(dialect.decode_time)
        return [decode(row) for row in rows]

    def prune(self, before: datetime) -> int:
        dialect = self.db.dialect
        when = (dialect.encode_time(before),)
        return len(dialect.write(self.db.engine, _PRUNE, when, audited=False))


class SQLDeliveryQueue:
    """Deliveries in the `webhook_deliveries` table; a claim is a compare-and-set
    on the row, so two processes never hold one delivery."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        encode = self.db.dialect.encode_time
        with self.db.dialect.transaction(self.db.engine, audited=False) as run:
            for d in deliveries:
                run(
                    _DELIVERY_INSERT,
                    (
                        d.id,
                        d.event,
                        d.url,
                        d.payload,
                        d.status.value,
                        d.attempts,
                        d.last_error,
                        encode(d.created_at),
                        encode(d.next_attempt_at),
                    ),
                )

    def claim(self, owner: str, now: datetime, until: datetime) -> Delivery | None:
        dialect = self.db.dialect
        due = (dialect.encode_time(now), dialect.encode_time(now))
        for _ in range(5):
            with dialect.transaction(self.db.engine, audited=False) as run:
                found = run(_NEXT_DUE, due)
                if not found:
                    return None
                held = run(_CLAIM, (owner, dialect.encode_time(until), found[0][0], *due))
            if held:
                return DELIVERY.decoder(dialect.decode_time)(held[0])
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
        dialect = self.db.dialect
        params = (
            status.value,
            attempts,
            last_error,
            dialect.encode_time(next_attempt_at),
            delivery_id,
            owner,
        )
        return bool(dialect.write(self.db.engine, _FINISH, params, audited=False))

    def list(
        self, status: DeliveryStatus | None = None, limit: int = 100, offset: int = 0
    ) -> list[Delivery]:
        dialect = self.db.dialect
        sql = f"SELECT {DELIVERY.columns} FROM webhook_deliveries"
        params: tuple[Any, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            params = (status.value,)
        sql += " ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
        rows = dialect.query(self.db.engine, sql, (*params, limit, offset))
        decode = DELIVERY.decoder(dialect.decode_time)
        return [decode(row) for row in rows]
