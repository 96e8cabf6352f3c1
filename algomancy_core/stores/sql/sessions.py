"""Sessions in SQL."""

from __future__ import annotations

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.names import name_key, session_taken
from algomancy_core.stores.base import SessionRecord
from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, Database
from algomancy_core.stores.sql.rows import SESSION

_SESSION_EXISTS = "SELECT id FROM sessions WHERE id = ?"
#: Deleting a session deletes everything in it: explicit deletes, no reliance on the
#: backend enforcing ON DELETE CASCADE.
_DELETE_SESSION = (
    "DELETE FROM result_tables WHERE scenario_id IN "
    "(SELECT id FROM scenarios WHERE session_id = ?)",
    "DELETE FROM scenarios WHERE session_id = ?",
    "DELETE FROM datasets WHERE session_id = ?",
    "DELETE FROM dataset_versions WHERE session_id = ?",
    "DELETE FROM dataset_blobs WHERE session_id = ?",
    "DELETE FROM baselines WHERE session_id = ?",
)
_DELETE_ROW = "DELETE FROM sessions WHERE id = ? RETURNING id"
_UNPIN = "DELETE FROM baselines WHERE session_id = ?"
_SCENARIO_IN_SESSION = "SELECT id FROM scenarios WHERE id = ? AND session_id = ?"
_PIN = "INSERT INTO baselines (session_id, scenario_id) VALUES (?, ?)"
_BASELINE = "SELECT scenario_id FROM baselines WHERE session_id = ?"
_INSERT = (
    "INSERT INTO sessions (id, display_name, owner, created_at, position, name_key) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
#: The session whose name is the same once normalised (`names.name_key`).
_LOOK_ALIKE = "SELECT display_name FROM sessions WHERE owner = ? AND name_key = ? AND id <> ?"
_RENAME = (
    f"UPDATE sessions SET display_name = ?, name_key = ? WHERE id = ? RETURNING {SESSION.columns}"
)
_OWNER = "SELECT owner FROM sessions WHERE id = ?"


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
                row = (record.id, record.display_name, owner, created, position, key)
                run(_INSERT, row)
        except INTEGRITY_ERRORS:
            raise self._taken(record.display_name, record.owner, record.id) from None

    def _taken(self, display_name: str, owner: str | None, session_id: str) -> ConflictError:
        """The 409 after a unique index refused `display_name` (another process won)."""
        found = self.db.dialect.query(
            self.db.engine, _LOOK_ALIKE, (owner or "", name_key(display_name), session_id)
        )
        return session_taken(display_name, found[0][0] if found else None)

    def rename_session(self, session_id: str, display_name: str) -> SessionRecord:
        dialect = self.db.dialect
        try:
            rows = dialect.write(
                self.db.engine, _RENAME, (display_name, name_key(display_name), session_id)
            )
        except INTEGRITY_ERRORS:
            found = dialect.query(self.db.engine, _OWNER, (session_id,))
            owner = found[0][0] if found else None
            raise self._taken(display_name, owner, session_id) from None
        if not rows:
            raise NotFoundError(f"session {session_id!r} not found")
        return SESSION.decoder(dialect.decode_time)(rows[0])

    def delete_session(self, session_id: str) -> None:
        with self.db.dialect.transaction(self.db.engine) as run:
            for statement in _DELETE_SESSION:
                run(statement, (session_id,))
            if not run(_DELETE_ROW, (session_id,)):
                raise NotFoundError(f"session {session_id!r} not found")
        self.db.after_delete()

    # -- the pinned baseline ---------------------------------------------------
    def set_baseline(self, session_id: str, scenario_id: str | None) -> None:
        dialect = self.db.dialect
        with dialect.transaction(self.db.engine) as run:
            if not run(_SESSION_EXISTS, (session_id,)):
                raise NotFoundError(f"session {session_id!r} not found")
            run(_UNPIN, (session_id,))
            if scenario_id is None:
                return
            # Locked (PostgreSQL): a concurrent `delete_scenario` waits for the pin.
            if not run(_SCENARIO_IN_SESSION + dialect.for_update, (scenario_id, session_id)):
                raise NotFoundError(f"scenario {scenario_id!r} not found")
            run(_PIN, (session_id, scenario_id))

    def get_baseline(self, session_id: str) -> str | None:
        rows = self.db.dialect.query(self.db.engine, _BASELINE, (session_id,))
        return str(rows[0][0]) if rows else None
