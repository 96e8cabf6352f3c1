"""Session look-ups kept on SQLite (`stores/sql/session_stamp.py`): answered without a
read while no session is written, and never stale after a write by another store on
the same file (two stores in one test stand for two processes: each maps the stamp
file on its own, as a process does)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from algomancy_core.scenario import ScenarioRecord
from algomancy_core.stores import SessionRecord
from algomancy_core.stores.sql import SQLStore, session_stamp
from algomancy_data import DataSource


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'algomancy.sqlite3'}"


@pytest.fixture
def stores(url: str) -> Iterator[tuple[SQLStore, SQLStore]]:
    first, second = SQLStore(url), SQLStore(url)
    yield first, second
    first.close()
    second.close()


def new_session(store: SQLStore, name: str) -> SessionRecord:
    record = SessionRecord(
        id=str(uuid.uuid4()), display_name=name, created_at=datetime.now(UTC), owner=None
    )
    store.create_session(record)
    return record


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement of sqlite3 connections opened from now on."""
    seen: list[str] = []
    connect = sqlite3.connect

    def tracing_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(seen.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", tracing_connect)
    return seen


def test_a_kept_lookup_reads_nothing(url: str, statements: list[str]) -> None:
    store = SQLStore(url)
    try:
        record = new_session(store, "main")
        assert store.find_session("main", None) == record
        assert store.get_session(record.id) == record
        statements.clear()
        assert store.find_session("main", None) == record
        assert store.get_session(record.id) == record
        assert statements == []
    finally:
        store.close()


def test_a_rename_by_another_store_is_seen_at_once(stores: tuple[SQLStore, SQLStore]) -> None:
    mine, theirs = stores
    old = new_session(mine, "main")
    assert mine.find_session("main", None) == old
    assert mine.get_session(old.id) == old

    theirs.rename_session(old.id, "old")
    new = new_session(theirs, "main")

    assert mine.find_session("main", None) == new
    renamed = mine.get_session(old.id)
    assert renamed is not None and renamed.display_name == "old"


def test_a_delete_by_another_store_is_seen_at_once(stores: tuple[SQLStore, SQLStore]) -> None:
    mine, theirs = stores
    record = new_session(mine, "main")
    assert mine.find_session("main", None) == record
    assert mine.get_session(record.id) == record

    theirs.delete_session(record.id)

    assert mine.find_session("main", None) is None
    assert mine.get_session(record.id) is None


def test_a_session_made_by_another_store_is_found_after_a_miss(
    stores: tuple[SQLStore, SQLStore],
) -> None:
    mine, theirs = stores
    assert mine.find_session("later", None) is None  # kept as absent
    record = new_session(theirs, "later")
    assert mine.find_session("later", None) == record


def test_a_kept_lookup_expires(
    url: str, statements: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Should a writer die between its commit and its last stamp, what was kept at its
    # first one goes after `KEPT_SECONDS` all the same.
    store = SQLStore(url)
    try:
        new_session(store, "main")
        monkeypatch.setattr(session_stamp, "KEPT_SECONDS", -1.0)
        store.find_session("main", None)  # kept for no time at all
        statements.clear()
        store.find_session("main", None)
        assert any("FROM sessions" in sql for sql in statements)
    finally:
        store.close()


def test_the_stamp_file_is_the_database_owners_alone(url: str, tmp_path: Path) -> None:
    SQLStore(url).close()
    assert (tmp_path / "algomancy.sqlite3-sessions").stat().st_mode & 0o077 == 0


def test_a_pin_by_another_store_is_seen_at_once(
    stores: tuple[SQLStore, SQLStore], statements: list[str]
) -> None:
    mine, theirs = stores
    session = new_session(mine, "main")
    theirs.put_dataset(session.id, "d", DataSource("d", tables={"t": pd.DataFrame({"a": [1]})}))
    scenario = ScenarioRecord(
        id=str(uuid.uuid4()),
        session_id=session.id,
        tag="t",
        dataset_key="d",
        algorithm="A",
        parameters={},
    )
    mine.add_scenario(scenario)
    assert mine.get_baseline(session.id) is None
    statements.clear()
    assert mine.get_baseline(session.id) is None  # kept: nothing read
    assert statements == []

    theirs.set_baseline(session.id, scenario.id)
    assert mine.get_baseline(session.id) == scenario.id
    theirs.set_baseline(session.id, None)
    assert mine.get_baseline(session.id) is None
