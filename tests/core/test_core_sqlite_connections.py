"""The SQLite store's own connections follow the calls in flight, not the threads
that ever made a call: a server's worker threads come and go (anyio retires idle
ones), and a connection per thread used to stay open after its thread ended, so a
long-running server gained open files without bound."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

from algomancy_core.stores import SessionRecord
from algomancy_core.stores.sql import SQLStore


def open_database_files(database: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        count += target.startswith(str(database))
    return count


def test_threads_that_come_and_go_leave_no_connections_open(tmp_path: Path) -> None:
    database = tmp_path / "algomancy.sqlite3"
    store = SQLStore(f"sqlite:///{database}")
    try:
        record = SessionRecord(
            id=str(uuid.uuid4()), display_name="s", created_at=datetime.now(UTC), owner=None
        )
        store.create_session(record)
        assert store.get_session(record.id) is not None

        def one_call() -> None:
            # a read and a write, each from a thread of its own that then ends
            assert store.get_session(record.id) is not None
            store.rename_session(record.id, f"s-{threading.get_ident()}")

        def run_threads(count: int) -> None:
            for _ in range(count):
                thread = threading.Thread(target=one_call)
                thread.start()
                thread.join()

        run_threads(5)
        settled = open_database_files(database)
        run_threads(100)
        assert open_database_files(database) <= settled
    finally:
        store.close()
