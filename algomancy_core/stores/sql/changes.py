"""The change feed in SQL: the `changes` table, appended to and read by `seq`.

Appends are numbered in commit order, so that a poller reading `seq > last` never
misses a change that commits late: on SQLite writers take turns anyway; on
PostgreSQL each append takes a transaction-scoped advisory lock around the
sequence's next value and the insert.
"""

from __future__ import annotations

from typing import Any

import orjson

from algomancy_core.changes import (
    CHANGES_KEPT,
    PRUNE_EVERY,
    STATUS_KINDS,
    Change,
    ChangeEntry,
    scenario_payload,
)
from algomancy_core.scenario import ScenarioRecord, utcnow
from algomancy_core.stores.sql.database import Database
from algomancy_core.stores.sql.rows import CHANGE
from algomancy_core.stores.sql.transaction import Run, insert_rows

_INSERT_HEAD = "INSERT INTO changes (session_id, kind, subject, payload, at) VALUES "
_INSERT = _INSERT_HEAD + "(?, ?, ?, ?, ?) RETURNING seq"
_PRUNE = "DELETE FROM changes WHERE seq <= ?"
_COLUMNS = CHANGE.columns
_AFTER = f"SELECT {_COLUMNS} FROM changes WHERE seq > ? ORDER BY seq LIMIT ?"
_AFTER_IN_SESSION = (
    f"SELECT {_COLUMNS} FROM changes WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_BOUNDS = "SELECT min(seq), max(seq) FROM changes"


def append(
    db: Database, run: Run, session_id: str, kind: str, subject: str, payload: dict[str, Any]
) -> int:
    """Append a change in the open write transaction `run` (as its last statement:
    on PostgreSQL the lock it takes is held until the commit)."""
    dialect = db.dialect
    values = (
        session_id,
        kind,
        subject,
        orjson.dumps(payload).decode(),
        dialect.encode_time(utcnow()),
    )
    if dialect.changes_lock_sql:
        run(dialect.changes_lock_sql)
    seq = int(run(_INSERT, values)[0][0])
    if seq % PRUNE_EVERY == 0 and seq > CHANGES_KEPT:
        run(_PRUNE, (seq - CHANGES_KEPT,))
    return seq


#: A change to append: `(session_id, kind, subject, payload)`.
Entry = ChangeEntry


def append_many(db: Database, run: Run, changes: list[Entry]) -> None:
    """`append` of each `(session_id, kind, subject, payload)` of `changes`, in order,
    by multi-row INSERTs (a batch of scenarios, `stores/sql/batches.py`)."""
    if not changes:
        return
    dialect = db.dialect
    at = dialect.encode_time(utcnow())
    rows = [(s, k, subject, orjson.dumps(p).decode(), at) for s, k, subject, p in changes]
    if dialect.changes_lock_sql:
        run(dialect.changes_lock_sql)
    insert_rows(run, _INSERT_HEAD, "(?, ?, ?, ?, ?)", rows)
    last = int(run("SELECT max(seq) FROM changes")[0][0])
    first = last - len(rows) + 1
    # `append` prunes at each seq that is a multiple of PRUNE_EVERY: so here, once,
    # when the batch's seqs crossed one.
    if last // PRUNE_EVERY > (first - 1) // PRUNE_EVERY and last > CHANGES_KEPT:
        run(_PRUNE, (last - CHANGES_KEPT,))


def append_scenario(
    db: Database, run: Run, record: ScenarioRecord, kind: str | None = None
) -> None:
    """Append the change that made `record` (by default: its move to its status)."""
    append(
        db,
        run,
        record.session_id,
        kind or STATUS_KINDS[record.status],
        record.id,
        scenario_payload(record),
    )


class ChangeRepository:
    """The `changes` table. The scenario writes of `ScenarioRepository` append
    their change in their own transaction (`records_scenario_changes`)."""

    db: Database
    records_scenario_changes = True

    def append_change(
        self, session_id: str, kind: str, subject: str, payload: dict[str, Any]
    ) -> int:
        with self.db.dialect.transaction(self.db.engine) as run:
            return append(self.db, run, session_id, kind, subject, payload)

    def append_changes(self, changes: list[ChangeEntry]) -> None:
        with self.db.dialect.transaction(self.db.engine) as run:
            append_many(self.db, run, changes)

    def read_changes(self, after: int, limit: int, session_id: str | None = None) -> list[Change]:
        dialect = self.db.dialect
        if session_id is None:
            rows = dialect.query(self.db.engine, _AFTER, (after, limit))
        else:
            rows = dialect.query(self.db.engine, _AFTER_IN_SESSION, (session_id, after, limit))
        decode = CHANGE.decoder(dialect.decode_time)
        return [decode(row) for row in rows]

    def change_bounds(self) -> tuple[int, int]:
        oldest, latest = self.db.dialect.query(self.db.engine, _BOUNDS)[0]
        if latest is None:
            return (0, 0)
        return (int(oldest), int(latest))
