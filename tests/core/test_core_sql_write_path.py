"""What the SQLite store's write path spares (issue 23, "create+run+complete over
HTTP on SQLite"): a claim with nothing queued takes no write transaction; SQLite's
checkpoints run on a thread of their own, not inside a writer's COMMIT; times are
encoded as SQLAlchemy encodes them."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite as sqlite_dialect

from algomancy_core.scenario import plan_claim, utcnow
from algomancy_core.stores.sql import SQLStore
from algomancy_core.stores.sql.checkpoints import (
    COMMITS_PER_CHECKPOINT,
    FALLBACK_PAGES,
    Checkpointer,
)
from algomancy_core.stores.sql.transaction import sqlite_time, utc
from tests.polling import wait_for

from .test_core_stores import new_scenario, new_session, queue


@pytest.fixture
def sql_store(tmp_path: Path) -> Iterator[SQLStore]:
    """A SQLite store (on PostgreSQL an empty claim blocks no other writer: it is
    left as it was)."""
    opened = SQLStore(f"sqlite:///{tmp_path / 'state' / 'algomancy.sqlite3'}")
    yield opened
    opened.close()


def count_transactions(store: SQLStore, monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """One entry per write transaction the store's dialect opens from now on: a
    `transaction`, or a statement alone in autocommit (`write`: a claim, whose change
    feed entry the database writes, `stores/sql/triggers.py`)."""
    dialect = store.db.dialect
    opened: list[None] = []
    for name in ("transaction", "write"):
        real = getattr(dialect, name)

        def counted(*args: Any, real: Any = real, **kwargs: Any) -> Any:
            opened.append(None)
            return real(*args, **kwargs)

        monkeypatch.setattr(dialect, name, counted)
    return opened


def claim(store: SQLStore, *, expected: bool = False) -> Any:
    return store.claim_next(plan_claim("me", utcnow() + timedelta(minutes=5)), expected=expected)


def test_a_claim_with_nothing_queued_writes_nothing(
    sql_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session(sql_store)
    new_scenario(sql_store, session.id, "created, not queued")
    opened = count_transactions(sql_store, monkeypatch)
    assert claim(sql_store) is None
    assert opened == []


def test_a_batch_claim_with_only_own_scenarios_queued_writes_nothing(
    sql_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session(sql_store)
    queue(sql_store, new_scenario(sql_store, session.id, "own").id)
    opened = count_transactions(sql_store, monkeypatch)
    assert sql_store.claim_many(plan_claim("me", utcnow() + timedelta(minutes=5)), 4) == []
    assert opened == []
    claimed = claim(sql_store)  # the own scenario is still there to claim
    assert claimed is not None and claimed.tag == "own"
    assert len(opened) == 1


def test_an_expected_claim_goes_straight_to_its_write(
    sql_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told of a queued scenario, the claim reads nothing first; told wrongly (another
    process claimed it), it finds nothing, in a write transaction for nothing."""
    session = new_session(sql_store)
    queue(sql_store, new_scenario(sql_store, session.id, "queued").id)
    looks: list[str] = []
    real = sql_store.db.dialect.query

    def looked(engine: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
        looks.append(sql)
        return real(engine, sql, params)

    monkeypatch.setattr(sql_store.db.dialect, "query", looked)
    opened = count_transactions(sql_store, monkeypatch)
    claimed = claim(sql_store, expected=True)
    assert claimed is not None and claimed.tag == "queued"
    assert (looks, len(opened)) == ([], 1)
    assert claim(sql_store, expected=True) is None
    assert (looks, len(opened)) == ([], 2)


def thread_of(checkpointer: Checkpointer) -> threading.Thread:
    thread = checkpointer._thread
    assert thread is not None and thread.is_alive()
    return thread


def test_the_checkpointer_folds_the_log_back_on_its_own_thread(tmp_path: Path) -> None:
    path = str(tmp_path / "db.sqlite3")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")  # the writer never checkpoints
    writer.execute("CREATE TABLE t (v BLOB)")
    checkpointer = Checkpointer(lambda: sqlite3.connect(path, check_same_thread=False), every=5)
    try:
        before = Path(path).stat().st_size
        for _ in range(5):
            writer.execute("INSERT INTO t VALUES (?)", (b"x" * 20_000,))
            checkpointer.committed()
        wait_for(lambda: checkpointer.done, what="a checkpoint")
        # The rows reach the main file only through a checkpoint.
        assert Path(path).stat().st_size > before + 100_000
        thread = thread_of(checkpointer)
    finally:
        checkpointer.close()
        writer.close()
    assert not thread.is_alive()


def test_sqlite_writes_leave_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'state' / 'algomancy.sqlite3'}")
    try:
        dialect: Any = store.db.dialect
        session = new_session(store)
        writer = dialect._writers.take()
        try:
            # The writer's own checkpoint is only a bound should the thread fall behind.
            assert writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (FALLBACK_PAGES,)
        finally:
            dialect._writers.give_back(writer)
        for i in range(COMMITS_PER_CHECKPOINT):
            queue(store, new_scenario(store, session.id, f"s{i}", dataset="d").id)
        wait_for(lambda: dialect._checkpoints.done, what="a background checkpoint")
        thread = thread_of(dialect._checkpoints)
    finally:
        store.close()
    assert not thread.is_alive()  # close stops the thread


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2024, 5, 1, 12, 0, 0, 5),  # naive: taken as UTC
        datetime(2024, 5, 1, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_plain_writes_store_times_as_sqlalchemy_does(value: datetime) -> None:
    """`sqlite_time` (every plain-SQL write) and SQLAlchemy's SQLite DATETIME (the
    pooled path) write the same text, so rows of both paths read and sort alike."""
    process = (
        sa.DateTime()
        .dialect_impl(sqlite_dialect.dialect())
        .bind_processor(sqlite_dialect.dialect())
    )
    assert process is not None
    assert sqlite_time(value) == process(utc(value).replace(tzinfo=None))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_runs_checkpoints_of_its_own(tmp_path: Path) -> None:
    """The parent's checkpoint thread is not in a forked child: the child starts its
    own when it needs one (`os.register_at_fork`)."""
    path = str(tmp_path / "db.sqlite3")
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("CREATE TABLE t (v BLOB)")
    checkpointer = Checkpointer(lambda: sqlite3.connect(path, check_same_thread=False), every=1)
    try:
        checkpointer.committed()
        wait_for(lambda: checkpointer.done, what="the parent's checkpoint")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
            pid = os.fork()
        if pid == 0:  # the child: report through the exit code only
            forgot = checkpointer._thread is None
            own = sqlite3.connect(path, isolation_level=None)
            own.execute("INSERT INTO t VALUES (x'00')")
            checkpointer.committed()
            deadline = time.monotonic() + 60  # a guard against a hang, not a speed bound
            while checkpointer.done < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            os._exit(0 if forgot and checkpointer.done >= 2 else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert checkpointer.done == 1  # the child's checkpoints are its own
    finally:
        checkpointer.close()
        writer.close()


def test_sqlalchemy_writes_count_towards_the_next_checkpoint(tmp_path: Path) -> None:
    """`Database.write` (experiments, studies) leaves checkpoints to the thread too,
    so its commits must bring the next one closer as the plain writes do."""
    store = SQLStore(f"sqlite:///{tmp_path / 'state' / 'algomancy.sqlite3'}")
    try:
        for _ in range(COMMITS_PER_CHECKPOINT):
            with store.db.write(audited=False) as conn:
                conn.exec_driver_sql("UPDATE meta SET value = value + 1 WHERE name = 'position'")
        wait_for(lambda: store.db.dialect._checkpoints.done, what="a background checkpoint")  # type: ignore[attr-defined]
    finally:
        store.close()
