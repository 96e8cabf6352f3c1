"""The SQL stores' own connections follow the calls in flight, not the threads
that ever made a call: a server's worker threads come and go (anyio retires idle
ones), and a connection per thread used to stay open after its thread ended, so a
long-running server gained open files without bound."""

from __future__ import annotations

import os
import threading
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from algomancy_core.stores import SessionRecord
from algomancy_core.stores.sql import SQLStore
from algomancy_core.stores.sql.checkpoints import COMMITS_PER_CHECKPOINT
from tests.pg import PostgresServer, postgres_server, postgres_url  # noqa: F401
from tests.polling import wait_for


def open_database_files(database: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += target.startswith(str(database))
    return count


def stored_session(store: SQLStore) -> SessionRecord:
    """A new session, written and read back once (so a reader connection is open)."""
    record = SessionRecord(
        id=str(uuid.uuid4()), display_name="s", created_at=datetime.now(UTC), owner=None
    )
    store.create_session(record)
    assert store.get_session(record.id) is not None
    return record


def test_threads_that_come_and_go_leave_no_connections_open(tmp_path: Path) -> None:
    database = tmp_path / "algomancy.sqlite3"
    store = SQLStore(f"sqlite:///{database}")
    try:
        record = stored_session(store)

        def one_call() -> None:
            # a read and a write, each from a thread of its own that then ends
            assert store.get_session(record.id) is not None
            store.rename_session(record.id, f"s-{threading.get_ident()}")

        def run_threads(count: int) -> None:
            for _ in range(count):
                thread = threading.Thread(target=one_call)
                thread.start()
                thread.join()

        # Enough writes for the first background checkpoint, whose connection stays.
        run_threads(COMMITS_PER_CHECKPOINT)
        wait_for(lambda: store.db.dialect._checkpoints.done, what="a checkpoint")  # type: ignore[attr-defined]
        settled = open_database_files(database)
        run_threads(100)
        assert open_database_files(database) <= settled
    finally:
        store.close()


@pytest.mark.postgres
def test_postgres_reads_recover_when_the_server_drops_their_connections(
    request: pytest.FixtureRequest,
) -> None:
    """The hot reads keep idle connections of their own: when the server ends them
    (a restart, an administrator), the next read opens new ones instead of failing."""
    postgres: PostgresServer = request.getfixturevalue("postgres_server")
    url: str = request.getfixturevalue("postgres_url")
    store = SQLStore(url)
    try:
        record = stored_session(store)
        database = sa.make_url(url).database
        with postgres.admin() as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
        assert ended is not None and ended[0] >= 1
        found = store.get_session(record.id)
        assert found is not None and found.display_name == "s"
    finally:
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_opens_connections_of_its_own(tmp_path: Path) -> None:
    """A connection must not be used across fork: the child forgets the parent's
    idle ones (`os.register_at_fork`) and opens its own."""
    store = SQLStore(f"sqlite:///{tmp_path / 'algomancy.sqlite3'}")
    try:
        record = stored_session(store)
        readers = store.db.dialect._readers  # type: ignore[attr-defined]
        (parents,) = readers._idle
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
            pid = os.fork()
        if pid == 0:  # the child: report through the exit code only
            forgot = len(readers._idle) == 0
            found = store.get_session(record.id) is not None
            os._exit(0 if forgot and found and readers._idle[-1] is not parents else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert readers._idle[-1] is parents  # the parent's own, untouched
        assert store.get_session(record.id) is not None
    finally:
        store.close()
