"""Sessions in SQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.names import name_key, session_taken
from algomancy_core.stores.base import SessionRecord
from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, AnyRow, Database
from algomancy_core.stores.sql.schema import (
    baselines,
    dataset_blobs,
    dataset_versions,
    datasets,
    list_entry,
    result_tables,
    scenarios,
    sessions,
)

_COLUMNS = (sessions.c.id, sessions.c.display_name, sessions.c.owner, sessions.c.created_at)


def session_record(row: AnyRow) -> SessionRecord:
    m = row._mapping
    return SessionRecord(
        id=m["id"],
        display_name=m["display_name"],
        created_at=m["created_at"],
        owner=m["owner"] or None,
    )


def require_session(conn: Connection, session_id: str) -> None:
    found = conn.execute(sa.select(sessions.c.id).where(sessions.c.id == session_id)).first()
    if found is None:
        raise NotFoundError(f"session {session_id!r} not found")


# The hot statements as plain SQL (`?` for parameters; the dialect adapts them).
_SELECT = "SELECT id, display_name, owner, created_at FROM sessions"
_GET = _SELECT + " WHERE id = ?"
_FIND = _SELECT + " WHERE owner = ? AND display_name = ?"
_LIST = _SELECT + " WHERE owner = ? ORDER BY position"
_ALL = _SELECT + " ORDER BY position"
_NAMES = "SELECT id, display_name FROM sessions WHERE owner = ? ORDER BY position"
_COUNT = "SELECT count(*) FROM sessions WHERE owner = ?"
_BASELINE = "SELECT scenario_id FROM baselines WHERE session_id = ?"
_INSERT = (
    "INSERT INTO sessions (id, display_name, owner, created_at, position, list_entry, name_key) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
#: The session whose name is the same once normalised (`names.name_key`).
_LOOK_ALIKE = "SELECT display_name FROM sessions WHERE owner = ? AND name_key = ? AND id <> ?"


class SessionRepository:
    """The `sessions` table; deleting a session deletes everything in it."""

    db: Database

    def create_session(self, record: SessionRecord) -> None:
        dialect = self.db.dialect
        try:
            with dialect.transaction(self.db.engine) as run:
                key = name_key(record.display_name)
                owner = record.owner or ""
                found = run(_LOOK_ALIKE, (owner, key, record.id))
                if found:
                    raise session_taken(record.display_name, found[0][0])
                position = run(dialect.next_position_sql)[0][0]
                created = dialect.encode_time(record.created_at)
                entry = list_entry(record.id, record.display_name)
                row = (record.id, record.display_name, owner, created, position, entry, key)
                run(_INSERT, row)
        except INTEGRITY_ERRORS:
            raise self._taken(record.display_name, record.owner, record.id) from None

    def _taken(self, display_name: str, owner: str | None, session_id: str) -> ConflictError:
        """The 409 after a unique index refused `display_name` (another process won)."""
        found = self.db.dialect.query(
            self.db.engine, _LOOK_ALIKE, (owner or "", name_key(display_name), session_id)
        )
        return session_taken(display_name, found[0][0] if found else None)

    def _sessions(self, sql: str, params: tuple[Any, ...]) -> list[SessionRecord]:
        decode = self.db.dialect.decode_time
        return [
            SessionRecord(id_, name, decode(created), owner or None)  # type: ignore[arg-type]
            for id_, name, owner, created in self.db.dialect.query(self.db.engine, sql, params)
        ]

    def get_session(self, session_id: str) -> SessionRecord | None:
        found = self._sessions(_GET, (session_id,))
        return found[0] if found else None

    def find_session(self, display_name: str, owner: str | None) -> SessionRecord | None:
        found = self._sessions(_FIND, (owner or "", display_name))
        return found[0] if found else None

    def list_sessions(
        self, owner: str | None, limit: int | None = None, offset: int = 0
    ) -> list[SessionRecord]:
        if limit is not None:
            return self._sessions(_LIST + " LIMIT ? OFFSET ?", (owner or "", limit, offset))
        listed = self._sessions(_LIST, (owner or "",))
        return listed[offset:] if offset else listed

    def list_session_names(self, owner: str | None) -> list[tuple[str, str]]:
        rows = self.db.dialect.query(self.db.engine, _NAMES, (owner or "",))
        return [(id_, name) for id_, name in rows]

    def list_all_sessions(self) -> list[SessionRecord]:
        return self._sessions(_ALL, ())

    def session_names_json(self, owner: str | None) -> bytes:
        dialect = self.db.dialect
        rows = dialect.query(self.db.engine, dialect.session_names_json_sql, (owner or "",))
        listing = rows[0][0]
        return listing if isinstance(listing, bytes) else str(listing).encode()

    def count_sessions(self, owner: str | None) -> int:
        return int(self.db.dialect.query(self.db.engine, _COUNT, (owner or "",))[0][0])

    def rename_session(self, session_id: str, display_name: str) -> SessionRecord:
        try:
            with self.db.write() as conn:
                row = conn.execute(
                    sa.update(sessions)
                    .where(sessions.c.id == session_id)
                    .values(
                        display_name=display_name,
                        list_entry=list_entry(session_id, display_name),
                        name_key=name_key(display_name),
                    )
                    .returning(*_COLUMNS)
                ).first()
                if row is None:
                    raise NotFoundError(f"session {session_id!r} not found")
                return session_record(row)
        except sa.exc.IntegrityError:
            owner = self._owner(session_id)
            raise self._taken(display_name, owner, session_id) from None

    def _owner(self, session_id: str) -> str | None:
        found = self.get_session(session_id)
        return found.owner if found is not None else None

    def delete_session(self, session_id: str) -> None:
        with self.db.write() as conn:
            # Explicit deletes: no reliance on the backend enforcing ON DELETE CASCADE.
            owned = sa.select(scenarios.c.id).where(scenarios.c.session_id == session_id)
            conn.execute(sa.delete(result_tables).where(result_tables.c.scenario_id.in_(owned)))
            conn.execute(sa.delete(scenarios).where(scenarios.c.session_id == session_id))
            conn.execute(sa.delete(datasets).where(datasets.c.session_id == session_id))
            for table in (dataset_versions, dataset_blobs):
                conn.execute(sa.delete(table).where(table.c.session_id == session_id))
            conn.execute(sa.delete(baselines).where(baselines.c.session_id == session_id))
            deleted = conn.execute(sa.delete(sessions).where(sessions.c.id == session_id))
            if deleted.rowcount == 0:
                raise NotFoundError(f"session {session_id!r} not found")
        self.db.after_delete()

    # -- the pinned baseline ---------------------------------------------------
    def set_baseline(self, session_id: str, scenario_id: str | None) -> None:
        with self.db.write() as conn:
            require_session(conn, session_id)
            conn.execute(sa.delete(baselines).where(baselines.c.session_id == session_id))
            if scenario_id is None:
                return
            found = conn.execute(
                sa.select(scenarios.c.id)
                .where(scenarios.c.id == scenario_id, scenarios.c.session_id == session_id)
                .with_for_update()
            ).first()
            if found is None:
                raise NotFoundError(f"scenario {scenario_id!r} not found")
            conn.execute(
                sa.insert(baselines).values(session_id=session_id, scenario_id=scenario_id)
            )

    def get_baseline(self, session_id: str) -> str | None:
        rows = self.db.dialect.query(self.db.engine, _BASELINE, (session_id,))
        return str(rows[0][0]) if rows else None
