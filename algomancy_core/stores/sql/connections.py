"""Every way the SQL store reaches its database, in one place.

Three paths, each for what it does best, and one stamp:

- SQLAlchemy's pool (`sqlite_engine`, or `create_engine` for PostgreSQL): schema
  upgrades, `Database.write` and `Database.read`, and on PostgreSQL every query and
  write transaction off the event loop.
- `Lender` (SQLite): plain sqlite3 connections lent for one call, in autocommit:
  the reads and every write of the store (`run_once`, `SQLiteTransaction`).
- `LoopReads` (PostgreSQL): reads on the caller's event loop (asyncio psycopg),
  lookups by key that arrive together sent as one query.
- `DataVersion` (SQLite): the file's data version on a connection of its own
  (`Store.change_stamp`), which tells in microseconds that nothing was written.

A forked child must not use its parent's connections: every holder registers with
`forget_after_fork` and drops them in the child.

The two hand-written paths are speed-ups, each kept for a figure of
`python -m benchmarks`: `Lender` for "8/11 status poll, SQLite / in memory"
(≥ 0.8x) and "11 create+run+complete, HTTP: SQLite / in memory" (≤ 1.3x), where
a SQLAlchemy connection per call adds its ping, BEGIN and ROLLBACK to a read of
microseconds; `LoopReads` for "11 status poll, PostgreSQL / in memory" (≥ 0.5x),
where the hop to a worker thread and back cost more than the query.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

#: Seconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT = 30.0

#: Pooled SQLite connections kept open: as many as the server's thread pool runs at
#: once (40); a connection made and dropped per request costs more than the query.
SQLITE_POOL_SIZE = 40

#: PostgreSQL connections the reads on one event loop keep open and use at once.
PG_READERS = 10


class _Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


class Lender(Generic[C]):
    """Open database connections lent out for one call at a time.

    Up to `keep` idle connections wait for the next call; one returned beyond that
    is closed, so the number open follows the calls in flight, not the threads that
    ever made one. A call that raises closes its connection rather than return it
    (it may be the connection that failed). A forked child forgets the parent's idle
    connections and opens its own (a connection must not be used across fork):
    `forget_after_fork`. No context manager, no lock: a deque's pop and append are
    atomic, and `take`/`give_back` are on every read's path.
    """

    def __init__(self, open_connection: Callable[[], C], keep: int) -> None:
        self._open = open_connection
        self._keep = keep
        self._idle: collections.deque[C] = collections.deque()
        self._closed = False
        forget_after_fork(self)

    def take(self) -> C:
        try:
            return self._idle.pop()
        except IndexError:
            return self._open()

    def give_back(self, conn: C, *, failed: bool = False) -> None:
        # After `close` (a call in flight then): closed too, not kept idle for nobody.
        if failed or self._closed or len(self._idle) >= self._keep:
            conn.close()
        else:
            self._idle.append(conn)

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


def run_once(lender: Lender[Any], sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
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


#: What holds connections in this process (lenders, PostgreSQL's loop reads).
_FORGET_AFTER_FORK: weakref.WeakSet[_Forgets] = weakref.WeakSet()


def forget_after_fork(holder: _Forgets) -> None:
    """Have `holder.forget()` called in a forked child (held weakly)."""
    _FORGET_AFTER_FORK.add(holder)


def _forget_after_fork() -> None:
    for holder in list(_FORGET_AFTER_FORK):
        holder.forget()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forget_after_fork)


# -- SQLite ----------------------------------------------------------------------
def open_sqlite(
    path: str, *, uri: bool, role: str, autocheckpoint: int | None = None
) -> sqlite3.Connection:
    """A plain connection to the SQLite file, in autocommit: a "reader" (query
    only) or a "writer"; `autocheckpoint`: its `wal_autocheckpoint` in pages, when
    not SQLite's default (see `checkpoints`)."""
    conn = sqlite3.connect(
        path,
        uri=uri,
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
        if autocheckpoint is not None:
            conn.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")
    return conn


class DataVersion:
    """A stamp that differs after any commit to the SQLite file by any connection of
    any process: SQLite's `PRAGMA data_version` on a connection of its own, which
    never writes (the pragma ignores the commits of the connection that reads it).

    A reader that kept what it made of the database at one stamp may answer it again
    while the stamp holds, without reading anything else. A spurious change (a
    checkpoint) only costs that reader a read; a missed one cannot happen. The stamp
    names the connection it was read on as well (`_generation`): another connection,
    after a fork or a reopen, counts on its own. A few microseconds a call.
    """

    def __init__(self, open_connection: Callable[[], sqlite3.Connection]) -> None:
        self._open = open_connection
        self._conn: sqlite3.Connection | None = None
        self._generation = 0
        self._lock = threading.Lock()
        forget_after_fork(self)

    def stamp(self) -> tuple[int, int]:
        with self._lock:
            if self._conn is None:
                self._conn = self._open()
                self._generation = next(_GENERATIONS)
            conn = self._conn
            try:
                row = conn.execute("PRAGMA data_version").fetchone()
            except BaseException:
                self._conn = None
                conn.close()
                raise
            return self._generation, int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def forget(self) -> None:
        """Drop the connection without using it (in a forked child)."""
        self._conn = None
        self._lock = threading.Lock()


#: Numbers of the connections `DataVersion` opened (so stamps of two never match).
_GENERATIONS = itertools.count(1)


def sqlite_engine(url: sa.URL, autocheckpoint: int | None = None) -> Engine:
    """SQLAlchemy's pool over the SQLite file, in WAL mode; a connection made
    with `execution_options(algomancy_write=True)` begins `BEGIN IMMEDIATE`.
    `autocheckpoint`: the connections' `wal_autocheckpoint`, as in `open_sqlite`."""
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
        enable_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Deleted rows are overwritten with zeros, not left readable in free pages.
        cursor.execute("PRAGMA secure_delete = ON")
        if autocheckpoint is not None:
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")
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


def enable_wal(cursor: Any) -> None:
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


# -- PostgreSQL on an event loop -------------------------------------------------
class LoopReads:
    """PostgreSQL reads on one event loop with asyncio psycopg (its connections
    belong to the loop that made them): at most `limit` connections, kept open.

    `lookup` batches only when it must: a lookup that finds a connection free sends
    its query at once; lookups by key of one statement that arrive while every
    connection is busy wait together for the first one to come back, and go in one
    query (`= ANY(keys)`). No lookup waits behind another's query while a
    connection is free (issue 23, "no long tail": the rows "23 status poll,
    PostgreSQL: p99 / p50" of `benchmarks.bench_status`; before, one query per
    statement was out at a time and every poll waited for the one in flight). A
    lookup never joins a query already sent, so it reads a commit at least as
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
        # Per statement: the keys waiting for a connection, and the task that waits
        # for one to send them (until it has one: then it takes them all).
        self._waiting: dict[str, dict[Any, list[asyncio.Future[list[tuple[Any, ...]]]]]] = {}
        self._senders: dict[str, asyncio.Task[None]] = {}

    async def query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        async with self._turns:
            return await self.run(sql, params)

    async def run(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """One query, by a caller holding a turn."""
        try:
            return await self._on_a_connection(sql, params)
        except self._disconnected:
            # The server closed the connection (a restart): the idle ones went with
            # it. Drop them and try once more on a fresh connection.
            self.close()
            return await self._on_a_connection(sql, params)

    async def _on_a_connection(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
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
        """Wait for a connection, then query for every key waiting by then. From that
        moment a new lookup starts a sender of its own (on another connection if one
        is free), rather than waiting for this query to return."""
        me = asyncio.current_task()
        try:
            async with self._turns:
                if self._senders.get(sql) is me:
                    del self._senders[sql]
                waiting = self._waiting.pop(sql, None)
                if not waiting:
                    return
                try:
                    rows = await self.run(sql, (list(waiting),))
                except Exception as exc:
                    for futures in waiting.values():
                        _settle(futures, exception=exc)
                    return
                by_key: dict[Any, list[tuple[Any, ...]]] = {}
                for row in rows:
                    by_key.setdefault(row[0], []).append(row)
                for key, futures in waiting.items():
                    _settle(futures, result=by_key.get(key, []))
        finally:
            if self._senders.get(sql) is me:
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
