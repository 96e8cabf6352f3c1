"""What differs between SQLite and PostgreSQL, in one object chosen once per store:
the SQL fragments each backend needs, how it encodes time, which connection path
(`connections`) and transaction (`transaction`) serve it, and what it does around
deletes and on close.

Everything else in the SQL store is written once for both.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from algomancy_core.audit import pending_audit
from algomancy_core.errors import ConfigurationError, storage_full
from algomancy_core.stores.sql.checkpoints import FALLBACK_PAGES, Checkpointer
from algomancy_core.stores.sql.connections import (
    PG_READERS,
    SQLITE_POOL_SIZE,
    DataVersion,
    Lender,
    LoopReads,
    forget_after_fork,
    open_sqlite,
    run_once,
    sqlite_engine,
)
from algomancy_core.stores.sql.files import checkpoint, private_file, private_folder
from algomancy_core.stores.sql.reserve import Reserve
from algomancy_core.stores.sql.schema import meta, position_seq
from algomancy_core.stores.sql.transaction import (
    Run,
    SQLiteTransaction,
    pooled_transaction,
    sqlite_time,
    utc,
)
from algomancy_core.stores.sql.triggers import status_changes_trigger

log = logging.getLogger("algomancy.store")


def normalize_url(url: str) -> str:
    """`url` with PostgreSQL pointed at psycopg 3 (`postgresql://` → `+psycopg`)."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class SQLDialect:
    """The behaviour both backends share; subclasses override what differs."""

    name = "sql"
    #: Reads answer from a local file in microseconds (see `Store.inline_reads`).
    inline_reads = False

    def create_engine(self, url: sa.URL, data_path: Path | None) -> Engine:
        # Room for the dispatcher, its runners and the API's request threads.
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    def lock_schema(self, conn: Connection) -> None:
        """Serialise the first open of several processes at once."""

    #: A write transaction holds the database's write lock from its start (SQLite's
    #: BEGIN IMMEDIATE): no other writer commits until it ends.
    locks_at_begin = False
    #: Appended to a claim's candidate read.
    skip_locked = ""
    #: Appended to a read of rows that must not be deleted before the transaction ends.
    for_share = ""
    #: Appended to a read of rows this transaction is about to change or delete.
    for_update = ""
    #: The statement that hands out the next position.
    next_position_sql = "SELECT nextval('algomancy_position_seq')"
    #: A bound on how many scenarios the table holds, read without counting them
    #: (None: none; `ScenarioRepository.add_scenario`).
    scenario_rows_bound_sql: str | None = None
    #: Run first in each append to the change feed: appends commit in seq order.
    changes_lock_sql = "SELECT pg_advisory_xact_lock(7262001)"
    #: The writer connection appends the change of each scenario status move itself
    #: (`stores/sql/triggers.py`): a scenario write then appends none.
    feeds_status_changes = False

    def next_positions(self, run: Run, count: int) -> list[int]:
        """`count` positions, increasing, in the open write transaction `run`: one
        statement (a batch of scenarios, `stores/sql/batches.py`)."""
        found = run(
            "SELECT nextval('algomancy_position_seq') FROM generate_series(1, CAST(? AS integer))",
            (count,),
        )
        return sorted(int(row[0]) for row in found)

    def text(self, sql: str) -> str:
        """`sql` written with `?` for each parameter, in this driver's style."""
        return _percent_style(sql)

    def query(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        """Rows of one plain SELECT (`?` for each parameter), for the hot paths, where
        building and compiling a statement costs more than running it."""
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(self.text(sql), params)]

    async def query_async(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        """`query`, for a caller on an event loop: on a worker thread, so the loop
        never waits on the database."""
        return await anyio.to_thread.run_sync(self.query, engine, sql, params)

    async def lookup_async(self, engine: Engine, select: str, key: Any) -> list[tuple[Any, ...]]:
        """The rows of `select` for one key, for a caller on an event loop. `select`
        names the key column last (it ends `WHERE <column>`) and first (its first
        column is the key)."""
        return await self.query_async(engine, f"{select} = ?", (key,))

    def change_stamp(self) -> object | None:
        """A value that differs after any commit to the database by anyone, cheaper
        than any query (see `Store.change_stamp`); None where there is none."""
        return None

    def write(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = (), *, audited: bool = True
    ) -> list[tuple[Any, ...]]:
        """One writing statement in a transaction of its own; the rows it returns."""
        with self.transaction(engine, audited=audited) as run:
            return run(sql, params)

    def transaction(
        self, engine: Engine, *, audited: bool = True
    ) -> contextlib.AbstractContextManager[Run]:
        """A write transaction for plain SQL: `run(sql, params)` gives the rows.
        With `audited` (see `Database.write`), the audit record of the write it is
        commits with it."""
        return pooled_transaction(engine, self.text, self.encode_time, audited=audited)

    def encode_time(self, value: datetime) -> Any:
        """A datetime as this driver stores it (UTC)."""
        return utc(value)

    def decode_time(self, value: Any) -> datetime | None:
        return None if value is None else utc(value)

    def write_turn(self) -> contextlib.AbstractContextManager[object]:
        """Held around each write transaction of this process."""
        return contextlib.nullcontext()

    def committed(self) -> None:
        """A write transaction of `Database.write` committed (its turn still held)."""

    def next_position(self, conn: Connection) -> int:
        """A number greater than every one handed out before (creation/queue order)."""
        return int(conn.execute(sa.select(position_seq.next_value())).scalar_one())

    def after_delete(self, engine: Engine) -> None:
        """After deleting data: make sure no copy of it stays readable on disk."""

    def release_reserve(self, engine: Engine) -> bool:
        """The disk is full: give up the space kept for deletes (see `reserve`);
        whether there was any to give up."""
        return False

    def on_close(self, engine: Engine) -> None:
        """Before the pool closes: leave the database complete on its own."""


class PostgresDialect(SQLDialect):
    """PostgreSQL: row locks, a sequence, an advisory lock for start-up. Dead rows
    are reclaimed by its own autovacuum."""

    name = "postgresql"

    def __init__(self) -> None:
        forget_after_fork(self)
        self._connect_async: Callable[[], Awaitable[Any]] | None = None
        self._async_reads: LoopReads | None = None

    def create_engine(self, url: sa.URL, data_path: Path | None) -> Engine:
        import psycopg

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        # The polls go straight to asyncio psycopg in autocommit, on the caller's loop
        # (`query_async`, `lookup_async`); other reads take SQLAlchemy's pool.
        self._connect_async = lambda: psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        self._disconnected: type[Exception] = psycopg.OperationalError
        return super().create_engine(url, data_path)

    async def query_async(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        # On the caller's event loop with asyncio psycopg: no hop to a worker thread
        # and back, which cost more of a poll than the query.
        reads = self._loop_reads()
        if reads is None:
            return await super().query_async(engine, sql, params)
        return await reads.query(self.text(sql), params)

    async def lookup_async(self, engine: Engine, select: str, key: Any) -> list[tuple[Any, ...]]:
        # Lookups that arrive while a query is out share the next one: one round
        # trip for all of them (`LoopReads.lookup`).
        reads = self._loop_reads()
        if reads is None:
            return await super().lookup_async(engine, select, key)
        return await reads.lookup(self.text(f"{select} = ANY(?)"), key)

    def _loop_reads(self) -> LoopReads | None:
        """The reads of the running event loop: None when another loop, still open,
        holds them (its callers take the threaded path)."""
        loop = asyncio.get_running_loop()
        reads = self._async_reads
        if reads is not None and reads.loop is loop:
            return reads
        if reads is not None and not reads.loop.is_closed():
            return None
        if reads is not None:
            reads.close()
        assert self._connect_async is not None
        self._async_reads = LoopReads(loop, self._connect_async, PG_READERS, self._disconnected)
        return self._async_reads

    def forget(self) -> None:
        """Drop the loop's reads without using them (in a forked child)."""
        self._async_reads = None

    def on_close(self, engine: Engine) -> None:
        if self._async_reads is not None:
            self._async_reads.shut()

    def lock_schema(self, conn: Connection) -> None:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7263451901)"))

    skip_locked = " FOR UPDATE OF candidate SKIP LOCKED"
    for_share = " FOR SHARE"
    for_update = " FOR UPDATE"


class SQLiteDialect(SQLDialect):
    """A SQLite file in WAL mode. Writers serialise on the database lock (`BEGIN
    IMMEDIATE`), so reads inside a write transaction need no row locks."""

    name = "sqlite"
    inline_reads = True
    locks_at_begin = True

    def __init__(self) -> None:
        # SQLite has one writer at a time per file. Writers of this process take
        # turns on this lock, a hand-over in microseconds; left to SQLite's busy
        # handler they would sleep a millisecond or more at each collision.
        # Other processes still wait through busy_timeout.
        self._write_turn = threading.Lock()
        self._path: str | None = None
        self._uri = False
        #: Disk space kept for deletes on a full disk (none for a `file:` URI).
        self.reserve: Reserve | None = None
        # Connections are lent for one call, not tied to threads: the server's
        # worker threads come and go, and a connection per thread outlived its thread.
        self._readers = Lender(lambda: self._open("reader"), keep=SQLITE_POOL_SIZE)
        # One writer at a time in this process (`_write_turn`), so one connection.
        self._writers = Lender(lambda: self._open("writer"), keep=1)
        # A reader of its own, for `change_stamp` alone.
        self._data_version = DataVersion(lambda: self._open("reader"))
        # The writer's checkpoints, on a thread of their own (`checkpoints`).
        self._checkpoints = Checkpointer(lambda: self._open("checkpointer"))

    def _open(self, role: str) -> Any:
        assert self._path is not None
        # Writers leave checkpoints to `_checkpoints` (SQLite's own past FALLBACK_PAGES).
        autocheckpoint = None if role == "reader" else FALLBACK_PAGES
        conn = open_sqlite(self._path, uri=self._uri, role=role, autocheckpoint=autocheckpoint)
        if role == "writer":
            conn.execute(status_changes_trigger())
        return conn

    next_position_sql = "UPDATE meta SET value = value + 1 WHERE name = 'position' RETURNING value"
    #: Each row's rowid is a distinct positive integer: the largest (one probe of the
    #: table's b-tree) is at least the number of rows.
    scenario_rows_bound_sql = "SELECT coalesce(max(rowid), 0) FROM scenarios"
    #: Writers take turns on the database lock: appends commit in seq order already.
    changes_lock_sql = ""
    feeds_status_changes = True

    def next_positions(self, run: Run, count: int) -> list[int]:
        # The writer holds the database lock: the counter moves by `count` at once.
        last = int(
            run(
                "UPDATE meta SET value = value + ? WHERE name = 'position' RETURNING value",
                (count,),
            )[0][0]
        )
        return list(range(last - count + 1, last + 1))

    def write_turn(self) -> contextlib.AbstractContextManager[object]:
        return self._write_turn

    def committed(self) -> None:
        # SQLAlchemy's writes (experiments, studies) count towards the next
        # background checkpoint as the plain ones do.
        self._checkpoints.committed()

    def text(self, sql: str) -> str:
        return sql

    def query(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        # A connection in autocommit: each SELECT reads the latest commit of any
        # process (a fresh WAL snapshot), and fetchall() steps the statement to its
        # end, so no read transaction stays open when the connection goes back.
        return run_once(self._readers, sql, params)

    def change_stamp(self) -> object | None:
        return self._data_version.stamp()

    async def query_async(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        # A local file: the read takes microseconds, less than a hop to a thread.
        return self.query(engine, sql, params)

    def write(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = (), *, audited: bool = True
    ) -> list[tuple[Any, ...]]:
        # In autocommit a writing statement is its own transaction: it takes the
        # write lock as it starts (waiting on the busy timeout, as BEGIN IMMEDIATE
        # does) and commits as it ends. Two statements fewer than BEGIN ... COMMIT.
        if audited and pending_audit() is not None:  # ... unless an audit record goes with it
            with self.transaction(engine) as run:
                return run(sql, params)
        with self._write_turn:
            rows = run_once(self._writers, sql, params)
            self._checkpoints.committed()
            return rows

    def transaction(
        self, engine: Engine, *, audited: bool = True
    ) -> contextlib.AbstractContextManager[Run]:
        return SQLiteTransaction(
            self._write_turn, self._writers, self._checkpoints.committed, audited=audited
        )

    def encode_time(self, value: datetime) -> Any:
        return sqlite_time(value)

    def decode_time(self, value: Any) -> datetime | None:
        return None if value is None else utc(datetime.fromisoformat(value))

    def create_engine(self, url: sa.URL, data_path: Path | None) -> Engine:
        database = url.database
        if not database or database == ":memory:":
            # Each pooled connection would get a database of its own.
            raise ConfigurationError(
                "database_url: a SQLite store needs a file path; "
                "leave has_persistent_state off for state in memory"
            )
        if data_path is not None:
            private_folder(Path(data_path))
        if not database.startswith("file:"):
            private_file(Path(database).expanduser())
        self._path, self._uri = database, database.startswith("file:")
        if not self._uri:
            path = Path(database).expanduser()
            self.reserve = Reserve(path.with_name(path.name + "-reserve"))
            self.reserve.refill()
        return sqlite_engine(url, autocheckpoint=FALLBACK_PAGES)

    def next_position(self, conn: Connection) -> int:
        # SQLite writers hold the database lock, so a counter row is race-free.
        return int(
            conn.execute(
                sa.update(meta)
                .where(meta.c.name == "position")
                .values(value=meta.c.value + 1)
                .returning(meta.c.value)
            ).scalar_one()
        )

    def after_delete(self, engine: Engine) -> None:
        # Copy the write-ahead log into the database file and empty it, so the
        # deleted data's old page images leave the disk too. Busy readers only delay
        # it: what stays behind goes at the next checkpoint, as on a full disk.
        try:
            checkpoint(engine)
        except sa.exc.DBAPIError as exc:
            if storage_full(exc) is None:
                raise
            log.warning("checkpoint after a delete: %s; retried at the next one", exc)
        if self.reserve is not None:
            self.reserve.refill()

    def release_reserve(self, engine: Engine) -> bool:
        if self.reserve is None or not self.reserve.release():
            return False
        log.warning("the disk is full: the reserve %s is given up for deletes", self.reserve.path)
        with contextlib.suppress(sa.exc.DBAPIError):
            checkpoint(engine)
        return True

    def on_close(self, engine: Engine) -> None:
        self._checkpoints.close()
        self._readers.close()
        self._writers.close()
        self._data_version.close()
        # After a clean stop the main file holds everything: a copy of it alone is
        # a complete backup.
        checkpoint(engine)


@functools.lru_cache(maxsize=256)
def _percent_style(sql: str) -> str:
    return sql.replace("?", "%s")


def dialect_for(url: sa.URL) -> SQLDialect:
    """The dialect object of `url`'s backend."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return SQLiteDialect()
    if backend == "postgresql":
        return PostgresDialect()
    return SQLDialect()
