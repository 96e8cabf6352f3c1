"""`Store.change_stamp`: on SQLite the file's data version, read on a connection of
its own; it holds while nothing is written and differs after any commit, whichever
connection or process made it. The scenario list answers from it
(`algomancy_api.listing`), so a missed change would be a stale list."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest

from algomancy_core import ScenarioStatus as S
from algomancy_core.scenario import plan_transition
from algomancy_core.stores import SessionRecord
from algomancy_core.stores.memory import MemoryStore
from algomancy_core.stores.sql import SQLStore
from algomancy_core.stores.sql.connections import DataVersion, open_sqlite
from tests.core.test_core_stores import CLAIM, COMPLETE, new_scenario, new_session, queue


def session(name: str = "s") -> SessionRecord:
    return SessionRecord(
        id=str(uuid.uuid4()), display_name=name, created_at=datetime.now(UTC), owner=None
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "algomancy.sqlite3"


def test_the_stamp_holds_while_nothing_is_written(database: Path) -> None:
    store = SQLStore(f"sqlite:///{database}")
    try:
        record = session()
        store.create_session(record)
        stamp = store.change_stamp()
        assert stamp is not None
        store.get_session(record.id)
        store.list_scenarios(record.id)
        assert store.change_stamp() == stamp
    finally:
        store.close()


def test_a_write_of_this_store_changes_the_stamp(database: Path) -> None:
    store = SQLStore(f"sqlite:///{database}")
    try:
        record = session()
        store.create_session(record)
        before = store.change_stamp()
        store.rename_session(record.id, "renamed")
        after = store.change_stamp()
        assert after != before
        store.create_session(session("other"))
        assert store.change_stamp() not in (before, after)
    finally:
        store.close()


def test_a_write_of_another_store_on_the_file_changes_the_stamp(database: Path) -> None:
    """As a second worker process would write: another store, its own connections."""
    one, other = SQLStore(f"sqlite:///{database}"), SQLStore(f"sqlite:///{database}")
    try:
        record = session()
        one.create_session(record)
        before = one.change_stamp()
        other.rename_session(record.id, "renamed")
        assert one.change_stamp() != before
    finally:
        one.close()
        other.close()


@pytest.mark.slow
def test_a_write_of_another_process_changes_the_stamp(database: Path) -> None:
    store = SQLStore(f"sqlite:///{database}")
    try:
        store.create_session(session())
        before = store.change_stamp()
        write = (
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute(\"UPDATE sessions SET display_name = 'elsewhere'\")"
        )
        subprocess.run([sys.executable, "-c", write, str(database)], check=True, timeout=60)
        assert store.change_stamp() != before
    finally:
        store.close()


def test_a_reopened_connection_never_repeats_a_stamp(database: Path) -> None:
    """Each connection counts on its own: a stamp names the connection it was read
    on, so one read before a fork (or a reopen) never matches one read after."""
    SQLStore(f"sqlite:///{database}").close()
    version = DataVersion(lambda: open_sqlite(str(database), uri=False, role="reader"))
    try:
        first = version.stamp()
        version.forget()  # as in a forked child
        assert version.stamp() != first
        version.close()
        assert version.stamp() != first
    finally:
        version.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_reads_the_stamp_on_a_connection_of_its_own(database: Path) -> None:
    store = SQLStore(f"sqlite:///{database}")
    try:
        store.create_session(session())
        parents = store.change_stamp()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
            pid = os.fork()
        if pid == 0:  # the child: report through the exit code only
            os._exit(0 if store.change_stamp() != parents else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert store.change_stamp() == parents
    finally:
        store.close()


def test_a_closed_store_leaves_no_stamp_connection_open(database: Path) -> None:
    store = SQLStore(f"sqlite:///{database}")
    store.create_session(session())
    store.change_stamp()
    version = store.db.dialect._data_version  # type: ignore[attr-defined]
    assert version._conn is not None
    store.close()
    assert version._conn is None


def test_the_memory_store_has_no_stamp() -> None:
    assert MemoryStore().change_stamp() is None


def test_every_write_a_scenario_list_shows_changes_the_stamp(database: Path) -> None:
    """The kept listing is answered while the stamp holds: each write it shows (create,
    queue, claim, progress, complete, cancel request, pin, unpin, reset, delete) must
    change it."""
    store = SQLStore(f"sqlite:///{database}")
    try:
        session_id = new_session(store).id
        stamps = [store.change_stamp()]

        def changed() -> None:
            stamps.append(store.change_stamp())
            assert stamps[-1] not in stamps[:-1]

        first = new_scenario(store, session_id, "a")
        changed()
        queue(store, first.id)
        changed()
        assert store.apply_transition(first.id, CLAIM) is not None
        changed()
        assert store.update_progress(first.id, 0.5, "half") is not None
        changed()
        assert store.apply_transition(first.id, COMPLETE) is not None
        changed()
        store.set_baseline(session_id, first.id)
        changed()
        store.set_baseline(session_id, None)
        changed()
        assert store.apply_transition(first.id, plan_transition(S.CREATED)) is not None
        changed()
        store.delete_scenario(session_id, first.id)
        changed()
        second = new_scenario(store, session_id, "b")
        changed()
        queue(store, second.id)
        changed()
        assert store.apply_transition(second.id, CLAIM) is not None
        changed()
        assert store.request_cancel(second.id)
        changed()
        assert store.change_stamp() == stamps[-1]  # and holds with no write
    finally:
        store.close()
