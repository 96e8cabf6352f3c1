"""The plain-SQL write transaction of each backend: `run(sql, params)` gives the
rows of a statement written with `?` for each parameter.

The audit record of the write it is (if any, see `Database.write`) is inserted
before the commit: both commit or neither does.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from algomancy_core.audit import pending_audit
from algomancy_core.stores.sql import audit_rows
from algomancy_core.stores.sql.audit_rows import pending_row
from algomancy_core.stores.sql.connections import Lender

Run = Callable[..., list[tuple[Any, ...]]]

#: Rows of one multi-row INSERT (`insert_rows`): a scenario's 33 parameters a row
#: make 16,500 a statement, within SQLite's 32,766 bound parameters (PostgreSQL's
#: 65,535).
ROWS_A_STATEMENT = 500


def insert_rows(run: Run, head: str, row: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """`head` then `row` once per row of `rows`, `ROWS_A_STATEMENT` rows a statement:
    one step of the database for many rows (an executemany steps once per row,
    releasing the GIL at each; see `stores/sql/batches.py`)."""
    for start in range(0, len(rows), ROWS_A_STATEMENT):
        part = rows[start : start + ROWS_A_STATEMENT]
        run(head + ", ".join([row] * len(part)), tuple(v for r in part for v in r))


def utc(value: datetime) -> datetime:
    """`value` in UTC (a naive value is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def sqlite_time(value: datetime) -> str:
    """A datetime as SQLite stores it: the text SQLAlchemy writes for the same
    column (`YYYY-MM-DD HH:MM:SS.ffffff`, in UTC), so both paths read alike.

    `isoformat` cut before its offset, not `strftime`: 13.6 -> ~4 us a value, and
    each write of a scenario encodes four to six (7% of the store's GIL-held time in
    the in-process SQLite round of `benchmarks.bench_scenarios`, py-spy --gil)."""
    if value.tzinfo is not UTC:
        value = utc(value)
    return value.isoformat(" ", "microseconds")[:26]


@contextlib.contextmanager
def pooled_transaction(
    engine: Engine,
    text: Callable[[str], str],
    encode_time: Callable[[datetime], Any],
    *,
    audited: bool = True,
) -> Iterator[Run]:
    """A transaction on a connection of SQLAlchemy's pool (PostgreSQL); `text`
    puts a statement in the driver's parameter style. `audited=False`: a write that
    is never the audited change (the audit trail's own, the webhook queue's)."""
    pending = pending_audit() if audited else None
    with engine.connect() as conn, conn.begin():

        def run(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
            result = conn.exec_driver_sql(text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []

        yield run
        if pending is not None:
            run(audit_rows.AUDIT_INSERT, pending_row(pending, encode_time))
    if pending is not None:
        pending.written = True


class SQLiteTransaction:
    """`BEGIN IMMEDIATE` ... `COMMIT` on the writer connection, this process's
    writers taking turns (a class, not a generator: it is on every write's path).

    A speed-up kept for "11 create+run+complete, HTTP: SQLite / in memory" (≤ 1.3x
    in `python -m benchmarks`): each create, claim and transition is one of these,
    without SQLAlchemy's connection checkout and statement compilation."""

    __slots__ = ("_committed", "_pending", "_turn", "_writer", "_writers")

    def __init__(
        self,
        turn: threading.Lock,
        writers: Lender[sqlite3.Connection],
        committed: Callable[[], None],
        *,
        audited: bool = True,
    ) -> None:
        self._turn = turn
        self._writers = writers
        # Told of each commit, under the turn (`checkpoints.Checkpointer.committed`).
        self._committed = committed
        # The audit of the write this is, inserted before the commit (`Database.write`).
        self._pending = pending_audit() if audited else None

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
                    writer.execute(audit_rows.AUDIT_INSERT, pending_row(pending, sqlite_time))
                writer.execute("COMMIT")
                self._committed()
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
