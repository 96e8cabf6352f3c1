"""`Database`: the engine, the dialect, and the two kinds of transaction every
repository of the SQL store uses."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algomancy_core.audit import pending_audit
from algomancy_core.errors import storage_full
from algomancy_core.stores.sql import audit_rows
from algomancy_core.stores.sql.dialect import SQLDialect, dialect_for, normalize_url
from algomancy_core.stores.sql.migrations import open_schema

T = TypeVar("T")

#: What a driver raises when a constraint refuses a write (through SQLAlchemy or not).
INTEGRITY_ERRORS = (sa.exc.IntegrityError, sqlite3.IntegrityError)


class Database:
    """One SQL database: opened (and its schema created or upgraded) on creation.

    Every store method is one short transaction: `write()` for anything that
    changes rows (on SQLite it takes the database lock up front), `read()` otherwise.
    """

    def __init__(self, url: str, *, data_path: Path | str | None = None) -> None:
        self.url = normalize_url(url)
        parsed = sa.make_url(self.url)
        self.dialect: SQLDialect = dialect_for(parsed)
        self.engine = self.dialect.create_engine(
            parsed, Path(data_path) if data_path is not None else None
        )
        self._closed = False
        sa.event.listen(self.engine, "checkin", self._checkin)
        try:
            with self.write() as conn:
                self.dialect.lock_schema(conn)
                open_schema(conn, self.engine.url.render_as_string(hide_password=True))
        except BaseException:
            self.engine.dispose()
            raise

    @contextmanager
    def write(self, *, audited: bool = True) -> Iterator[Connection]:
        """A write transaction. When it is the change of an audited write (see
        `algomancy_core.audit`), the audit record is inserted in it: both commit
        or neither does. `audited=False`: a write that is never the change (the
        audit trail's own, the webhook queue's)."""
        pending = pending_audit() if audited else None
        with self.dialect.write_turn(), self.engine.connect() as conn:
            conn = conn.execution_options(algomancy_write=True)
            with conn.begin():
                yield conn
                if pending is not None:
                    row = audit_rows.pending_row(pending, self.dialect.encode_time)
                    conn.exec_driver_sql(self.dialect.text(audit_rows.AUDIT_INSERT), row)
            self.dialect.committed()
        if pending is not None:
            pending.written = True

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def next_position(self, conn: Connection) -> int:
        return self.dialect.next_position(conn)

    def after_delete(self) -> None:
        self.dialect.after_delete(self.engine)

    def deleting(self, delete: Callable[[], T]) -> T:
        """Run `delete`; when it finds the disk full, give up the reserve kept for
        this (see `reserve`) and run it once more."""
        try:
            return delete()
        except (OSError, sqlite3.Error, sa.exc.DBAPIError) as exc:
            if storage_full(exc) is None or not self.dialect.release_reserve(self.engine):
                raise
        return delete()

    def _checkin(self, dbapi_connection: Any, record: Any) -> None:
        # A connection returned after `close` (by a call still in flight then, or
        # made after it: a run ending late records its outcome) is closed, not kept:
        # `dispose` leaves the pool usable, and an open connection dropped with it
        # is closed only by the garbage collector, which warns (ResourceWarning).
        if self._closed:
            record.invalidate()

    def close(self) -> None:
        """Leave the database complete on its own, then release every connection."""
        self._closed = True
        try:
            self.dialect.on_close(self.engine)
        finally:
            self.engine.dispose()
