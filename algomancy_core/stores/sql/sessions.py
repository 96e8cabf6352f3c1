"""Sessions in SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.stores.base import SessionRecord
from algomancy_core.stores.sql.database import AnyRow, Database
from algomancy_core.stores.sql.schema import datasets, result_tables, scenarios, sessions

_COLUMNS = (sessions.c.id, sessions.c.display_name, sessions.c.owner, sessions.c.created_at)
# The statements of the hot reads, built once: building a select costs more than
# running it on SQLite.
_BY_ID = sa.select(*_COLUMNS).where(sessions.c.id == sa.bindparam("id"))
_BY_NAME = sa.select(*_COLUMNS).where(
    sessions.c.owner == sa.bindparam("owner"), sessions.c.display_name == sa.bindparam("name")
)


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


class SessionRepository:
    """The `sessions` table; deleting a session deletes everything in it."""

    db: Database

    def create_session(self, record: SessionRecord) -> None:
        try:
            with self.db.write() as conn:
                if self._find_session(conn, record.display_name, record.owner) is not None:
                    raise ConflictError(f"a session named {record.display_name!r} already exists")
                conn.execute(
                    sa.insert(sessions).values(
                        id=record.id,
                        display_name=record.display_name,
                        owner=record.owner or "",
                        created_at=record.created_at,
                        position=self.db.next_position(conn),
                    )
                )
        except sa.exc.IntegrityError:
            raise ConflictError(f"a session named {record.display_name!r} already exists") from None

    def get_session(self, session_id: str) -> SessionRecord | None:
        with self.db.read() as conn:
            row = conn.execute(_BY_ID, {"id": session_id}).first()
        return None if row is None else session_record(row)

    @staticmethod
    def _find_session(
        conn: Connection, display_name: str, owner: str | None
    ) -> SessionRecord | None:
        row = conn.execute(_BY_NAME, {"owner": owner or "", "name": display_name}).first()
        return None if row is None else session_record(row)

    def find_session(self, display_name: str, owner: str | None) -> SessionRecord | None:
        with self.db.read() as conn:
            return self._find_session(conn, display_name, owner)

    def list_sessions(
        self, owner: str | None, limit: int | None = None, offset: int = 0
    ) -> list[SessionRecord]:
        query = (
            sa.select(*_COLUMNS)
            .where(sessions.c.owner == (owner or ""))
            .order_by(sessions.c.position)
            .limit(limit)
            .offset(offset or None)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [session_record(row) for row in rows]

    def count_sessions(self, owner: str | None) -> int:
        with self.db.read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(sessions)
                    .where(sessions.c.owner == (owner or ""))
                ).scalar_one()
            )

    def rename_session(self, session_id: str, display_name: str) -> SessionRecord:
        try:
            with self.db.write() as conn:
                row = conn.execute(
                    sa.update(sessions)
                    .where(sessions.c.id == session_id)
                    .values(display_name=display_name)
                    .returning(*_COLUMNS)
                ).first()
                if row is None:
                    raise NotFoundError(f"session {session_id!r} not found")
                return session_record(row)
        except sa.exc.IntegrityError:
            raise ConflictError(f"a session named {display_name!r} already exists") from None

    def delete_session(self, session_id: str) -> None:
        with self.db.write() as conn:
            # Explicit deletes: no reliance on the backend enforcing ON DELETE CASCADE.
            owned = sa.select(scenarios.c.id).where(scenarios.c.session_id == session_id)
            conn.execute(sa.delete(result_tables).where(result_tables.c.scenario_id.in_(owned)))
            conn.execute(sa.delete(scenarios).where(scenarios.c.session_id == session_id))
            conn.execute(sa.delete(datasets).where(datasets.c.session_id == session_id))
            deleted = conn.execute(sa.delete(sessions).where(sessions.c.id == session_id))
            if deleted.rowcount == 0:
                raise NotFoundError(f"session {session_id!r} not found")
        self.db.after_delete()
