"""What differs between SQLite and PostgreSQL, in one object chosen once per store.

Everything else in the SQL store is written once for both.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from algomancy_core.audit import pending_audit
from algomancy_core.errors import ConfigurationError, storage_full
from algomancy_core.stores.sql.audit import AUDIT_INSERT, pending_row
from algomancy_core.stores.sql.reserve import Reserve
from algomancy_core.stores.sql.schema import meta, position_seq

log = logging.getLogger("algomancy.store")

#: Seconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT = 30.0

#: Pooled SQLite connections kept open: as many as the server's thread pool runs at
#: once (40); a connection made and dropped per request costs more than the query.
SQLITE_POOL_SIZE = 40


#: PostgreSQL connections a process keeps for the hot reads, and lends at once.
PG_READERS = 10


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
    #: Run first in each append to the change feed: appends commit in seq order.
    changes_lock_sql = "SELECT pg_advisory_xact_lock(7262001)"
    #: An owner's sessions as one JSON array of `{id, display_name}`, oldest first.
    session_names_json_sql = (
        "SELECT '[' || coalesce(string_agg(list_entry, ',' ORDER BY position), '') || ']' "
        "FROM sessions WHERE owner = ?"
    )

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

    def write(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        """One writing statement in a transaction of its own; the rows it returns."""
        with self.transaction(engine) as run:
            return run(sql, params)

    def transaction(self, engine: Engine) -> contextlib.AbstractContextManager[Run]:
        """A write transaction for plain SQL: `run(sql, params)` gives the rows."""
        return self._transaction(engine)

    @contextlib.contextmanager
    def _transaction(self, engine: Engine) -> Iterator[Run]:
        # The audit of the write this is (if any) commits with it: see `Database.write`.
        pending = pending_audit()
        with engine.connect() as conn, conn.begin():

            def run(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
                result = conn.exec_driver_sql(self.text(sql), params)
                return [tuple(row) for row in result] if result.returns_rows else []

            yield run
            if pending is not None:
                run(AUDIT_INSERT, pending_row(pending, self.encode_time))
        if pending is not None:
            pending.written = True

    def encode_time(self, value: datetime) -> Any:
        """A datetime as this driver stores it (UTC)."""
        return _utc(value)

    def decode_time(self, value: Any) -> datetime | None:
        return None if value is None else _utc(value)

    def write_turn(self) -> contextlib.AbstractContextManager[object]:
        """Held around each write transaction of this process."""
        return contextlib.nullcontext()

    def next_position(self, conn: Connection) -> int:
        """A number greater than every one handed out before (creation/queue order)."""
        return int(conn.execute(sa.select(position_seq.next_value())).scalar_one())

    def claim_candidate(self, query: sa.Select[Any], table: sa.FromClause) -> sa.Select[Any]:
        """The candidate read of a claim, as this backend reads it best."""
        return query

    def lock_for_share(self, query: sa.Select[Any]) -> sa.Select[Any]:
        """`query` reading rows that must not be deleted before this transaction ends."""
        return query

    def lock_for_update(self, query: sa.Select[Any]) -> sa.Select[Any]:
        """`query` reading rows this transaction is about to change or delete."""
        return query

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
        _FORGET_AFTER_FORK.add(self)
        self._readers: _Lender[Any] | None = None
        self._connect_async: Callable[[], Awaitable[Any]] | None = None
        self._async_reads: _LoopReads | None = None

    def create_engine(self, url: sa.URL, data_path: Path | None) -> Engine:
        import psycopg

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        # The hot reads (polls) go straight to psycopg in autocommit: one round trip
        # each, where a pooled SQLAlchemy connection adds a ping, BEGIN and ROLLBACK.
        self._readers = _Lender(
            lambda: psycopg.connect(conninfo, autocommit=True),
            keep=PG_READERS,
            limit=PG_READERS,
        )
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
        # trip for all of them (`_LoopReads.lookup`).
        reads = self._loop_reads()
        if reads is None:
            return await super().lookup_async(engine, select, key)
        return await reads.lookup(self.text(f"{select} = ANY(?)"), key)

    def _loop_reads(self) -> _LoopReads | None:
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
        self._async_reads = _LoopReads(loop, self._connect_async, PG_READERS, self._disconnected)
        return self._async_reads

    def forget(self) -> None:
        """Drop the loop's reads without using them (in a forked child)."""
        self._async_reads = None

    def on_close(self, engine: Engine) -> None:
        if self._readers is not None:
            self._readers.close()
        if self._async_reads is not None:
            self._async_reads.shut()

    def lock_schema(self, conn: Connection) -> None:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7263451901)"))

    def claim_candidate(self, query: sa.Select[Any], table: sa.FromClause) -> sa.Select[Any]:
        # Skip rows another worker is claiming right now instead of queueing behind it.
        return query.with_for_update(skip_locked=True, of=table)

    skip_locked = " FOR UPDATE OF candidate SKIP LOCKED"
    for_share = " FOR SHARE"
    for_update = " FOR UPDATE"

    def lock_for_share(self, query: sa.Select[Any]) -> sa.Select[Any]:
        return query.with_for_update(read=True)

    def lock_for_update(self, query: sa.Select[Any]) -> sa.Select[Any]:
        return query.with_for_update()


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
        self._readers = _Lender(lambda: self._open("reader"), keep=SQLITE_POOL_SIZE)
        # One writer at a time in this process (`_write_turn`), so one connection.
        self._writers = _Lender(lambda: self._open("writer"), keep=1)

    next_position_sql = "UPDATE meta SET value = value + 1 WHERE name = 'position' RETURNING value"
    #: Writers take turns on the database lock: appends commit in seq order already.
    changes_lock_sql = ""
    session_names_json_sql = (
        # As a BLOB: the bytes come out as they are, not decoded to a str and back.
        "SELECT CAST('[' || coalesce(group_concat(list_entry, ','), '') || ']' AS BLOB) "
        "FROM (SELECT list_entry FROM sessions WHERE owner = ? ORDER BY position)"
    )

    def write_turn(self) -> contextlib.AbstractContextManager[object]:
        return self._write_turn

    def text(self, sql: str) -> str:
        return sql

    def query(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        # A connection in autocommit: each SELECT reads the latest commit of any
        # process (a fresh WAL snapshot), and fetchall() steps the statement to its
        # end, so no read transaction stays open when the connection goes back.
        return _run_once(self._readers, sql, params)

    async def query_async(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        # A local file: the read takes microseconds, less than a hop to a thread.
        return self.query(engine, sql, params)

    def write(
        self, engine: Engine, sql: str, params: tuple[Any, ...] = ()
    ) -> list[tuple[Any, ...]]:
        # In autocommit a writing statement is its own transaction: it takes the
        # write lock as it starts (waiting on the busy timeout, as BEGIN IMMEDIATE
        # does) and commits as it ends. Two statements fewer than BEGIN ... COMMIT.
        if pending_audit() is not None:  # ... unless an audit record goes with it
            with self.transaction(engine) as run:
                return run(sql, params)
        with self._write_turn:
            return _run_once(self._writers, sql, params)

    def transaction(self, engine: Engine) -> contextlib.AbstractContextManager[Run]:
        return _SQLiteTransaction(self._write_turn, self._writers)

    def encode_time(self, value: datetime) -> Any:
        return _sqlite_time(value)

    def decode_time(self, value: Any) -> datetime | None:
        return None if value is None else _utc(datetime.fromisoformat(value))

    def _open(self, role: str) -> sqlite3.Connection:
        assert self._path is not None
        conn = sqlite3.connect(
            self._path,
            uri=self._uri,
            timeout=SQLITE_BUSY_TIMEOUT,
            isolation_level=None,
            check_same_thread=False,
        )
        if role == "reader":
            conn.execute("PRAGMA query_only = ON")
        else:
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")
        return conn

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
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=10,
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
            # pysqlite's own BEGIN handling is off: SQLAlchemy's "begin" event
            # emits it, so writers can ask for BEGIN IMMEDIATE (documented recipe).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT * 1000)}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            # Deleted rows are overwritten with zeros, not left readable in free pages.
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            # A writer takes the lock up front: a deferred transaction that reads
            # first and writes later cannot wait for the lock and fails "locked".
            # A read is one statement (or checks what it read twice, see datasets):
            # each SELECT in autocommit is its own consistent snapshot, and saves
            # the BEGIN and COMMIT round trips, which cost more than a key lookup.
            if connection.get_execution_options().get("algomancy_write", False):
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

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
        self._readers.close()
        self._writers.close()
        # After a clean stop the main file holds everything: a copy of it alone is
        # a complete backup.
        checkpoint(engine)


Run = Callable[..., list[tuple[Any, ...]]]


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class _Lender(Generic[C]):
    """Open database connections lent out for one call at a time.

    Up to `keep` idle connections wait for the next call; one returned beyond that
    is closed, so the number open follows the calls in flight, not the threads that
    ever made one. With `limit`, at most that many are lent at once and further
    calls wait for one to come back (cheaper than connecting to a server, and it
    bounds the connections a process holds). A call that raises closes its
    connection rather than return it (it may be the connection that failed). A
    forked child forgets the parent's idle connections and opens its own (a
    connection must not be used across fork): `_forget_after_fork`.

    `take` and `give_back` are the hot path (no context manager, no lock: a deque's
    pop and append are atomic); `lend` wraps them for everything else.
    """

    def __init__(
        self, open_connection: Callable[[], C], keep: int, limit: int | None = None
    ) -> None:
        self._open = open_connection
        self._keep = keep
        self._turns = threading.BoundedSemaphore(limit) if limit else None
        self._idle: collections.deque[C] = collections.deque()
        self._closed = False
        _FORGET_AFTER_FORK.add(self)

    def take(self) -> C:
        if self._turns is not None:
            self._turns.acquire()
        try:
            return self._idle.pop()
        except IndexError:
            pass
        try:
            return self._open()
        except BaseException:
            if self._turns is not None:
                self._turns.release()
            raise

    def give_back(self, conn: C, *, failed: bool = False) -> None:
        # After `close` (a call in flight then): closed too, not kept idle for nobody.
        if failed or self._closed or len(self._idle) >= self._keep:
            conn.close()
        else:
            self._idle.append(conn)
        if self._turns is not None:
            self._turns.release()

    @contextlib.contextmanager
    def lend(self) -> Iterator[C]:
        conn = self.take()
        try:
            yield conn
        except BaseException:
            self.give_back(conn, failed=True)
            raise
        self.give_back(conn)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                conn = self._idle.pop()
            except IndexError:
                return
            conn.close()

    def forget(self) -> None:
        """Drop the idle connections without using them (in a forked child)."""
        self._idle = collections.deque()


def _sqlite_time(value: datetime) -> str:
    """A datetime as SQLite stores it: the text SQLAlchemy writes for the same
    column, so both paths read alike."""
    value = _utc(value)
    return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}"


class _SQLiteTransaction:
    """`BEGIN IMMEDIATE` ... `COMMIT` on the writer connection, this process's
    writers taking turns (a class, not a generator: it is on every write's path)."""

    __slots__ = ("_pending", "_turn", "_writer", "_writers")

    def __init__(self, turn: threading.Lock, writers: _Lender[sqlite3.Connection]) -> None:
        self._turn = turn
        self._writers = writers
        # The audit of the write this is, inserted before the commit (`Database.write`).
        self._pending = pending_audit()

    def __enter__(self) -> Run:
        self._turn.acquire()
        try:
            writer = self._writer = self._writers.take()
        except BaseException:
            self._turn.release()
            raise
        try:
            writer.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._writers.give_back(writer, failed=True)
            self._turn.release()
            raise
        return self._run

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._writer.execute(sql, params).fetchall()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        writer = self._writer
        pending = self._pending
        try:
            if kind is None:
                if pending is not None:
                    writer.execute(AUDIT_INSERT, pending_row(pending, _sqlite_time))
                writer.execute("COMMIT")
                if pending is not None:
                    pending.written = True
            elif writer.in_transaction:
                writer.execute("ROLLBACK")
        except BaseException:
            self._writers.give_back(writer, failed=True)
            raise
        else:
            self._writers.give_back(writer, failed=kind is not None)
        finally:
            self._turn.release()


def _run_once(lender: _Lender[Any], sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The rows of one statement on a connection of `lender`."""
    conn = lender.take()
    try:
        rows: list[tuple[Any, ...]] = conn.execute(sql, params).fetchall()
    except BaseException:
        lender.give_back(conn, failed=True)
        raise
    lender.give_back(conn)
    return rows


class _Forgets(Protocol):
    def forget(self) -> None: ...


#: What holds connections in this process (lenders, PostgreSQL's loop reads), for
#: `_forget_after_fork`.
_FORGET_AFTER_FORK: weakref.WeakSet[_Forgets] = weakref.WeakSet()


def _forget_after_fork() -> None:
    for holder in list(_FORGET_AFTER_FORK):
        holder.forget()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_after_fork)


class _LoopReads:
    """PostgreSQL reads on one event loop with asyncio psycopg (its connections
    belong to the loop that made them): at most `limit` connections, kept open.

    `lookup` batches: lookups by key of one statement that arrive while its query is
    out wait for it to return, then go in the next query together (`= ANY(keys)`).
    A lookup never joins a query already sent, so it reads a commit at least as
    recent as its own arrival, as a query of its own would.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        connect: Callable[[], Awaitable[Any]],
        limit: int,
        disconnected: type[Exception],
    ) -> None:
        self.loop = loop
        self._connect = connect
        self._turns = asyncio.Semaphore(limit)
        self._idle: list[Any] = []
        self._disconnected = disconnected
        #: Set by `shut` (the store closed): connections are closed after one query.
        self._shut = False
        # Per statement: the keys waiting for the next query, and the task sending them.
        self._waiting: dict[str, dict[Any, list[asyncio.Future[list[tuple[Any, ...]]]]]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}

    async def query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            return await self._query(sql, params)
        except self._disconnected:
            # The server closed the connection (a restart): the idle ones went with
            # it. Drop them and try once more on a fresh connection.
            self.close()
            return await self._query(sql, params)

    async def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with self._turns:
            conn = self._idle.pop() if self._idle else await self._connect()
            try:
                cursor = await conn.execute(sql, params, prepare=True)
                rows = list(await cursor.fetchall())
            except BaseException:
                _finish(conn)
                raise
            if self._shut:
                _finish(conn)
            else:
                self._idle.append(conn)
            return rows

    async def lookup(self, sql: str, key: Any) -> list[tuple[Any, ...]]:
        future: asyncio.Future[list[tuple[Any, ...]]] = self.loop.create_future()
        self._waiting.setdefault(sql, {}).setdefault(key, []).append(future)
        if sql not in self._senders:
            self._senders[sql] = self.loop.create_task(self._send(sql))
        return await future

    async def _send(self, sql: str) -> None:
        """Query for the waiting keys until none wait."""
        try:
            while waiting := self._waiting.pop(sql, None):
                try:
                    rows = await self.query(sql, (list(waiting),))
                except Exception as exc:
                    for futures in waiting.values():
                        _settle(futures, exception=exc)
                    continue
                by_key: dict[Any, list[tuple[Any, ...]]] = {}
                for row in rows:
                    by_key.setdefault(row[0], []).append(row)
                for key, futures in waiting.items():
                    _settle(futures, result=by_key.get(key, []))
        finally:
            del self._senders[sql]

    def shut(self) -> None:
        """The store closed: close the idle connections, and those of the queries
        still out when they return (kept, they would stay open until collected)."""
        self._shut = True
        self.close()

    def close(self) -> None:
        """Close the idle connections, from any thread (libpq's own close: no wait)."""
        idle, self._idle = self._idle, []
        for conn in idle:
            _finish(conn)


def _settle(
    futures: list[asyncio.Future[list[tuple[Any, ...]]]],
    result: list[tuple[Any, ...]] | None = None,
    exception: BaseException | None = None,
) -> None:
    for future in futures:
        if future.done():  # its caller went away
            continue
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result or [])


def _finish(conn: Any) -> None:
    """Close an asyncio psycopg connection without its event loop."""
    conn.pgconn.finish()


@functools.lru_cache(maxsize=256)
def _percent_style(sql: str) -> str:
    return sql.replace("?", "%s")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def checkpoint(engine: Engine) -> None:
    """`PRAGMA wal_checkpoint(TRUNCATE)` on a pooled connection."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def private_folder(folder: Path) -> None:
    """Create `folder` (and its parents) readable by this user only; an existing
    folder keeps the permissions its owner gave it."""
    folder = folder.expanduser()
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkdir's mode is filtered through the umask; say it once more, exactly.
        os.chmod(folder, 0o700)


def private_file(path: Path) -> None:
    """Create the database file (and its folder) for this user only, before SQLite
    does: SQLite gives its -wal and -shm files the permissions of the main file."""
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, 0o600)


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL. The switch needs the file to itself and SQLite does
    not wait for it on busy_timeout, so workers opening a new file together (gunicorn
    -w N) would fail "database is locked": retry until the busy timeout instead."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def dialect_for(url: sa.URL) -> SQLDialect:
    """The dialect object of `url`'s backend."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return SQLiteDialect()
    if backend == "postgresql":
        return PostgresDialect()
    return SQLDialect()
