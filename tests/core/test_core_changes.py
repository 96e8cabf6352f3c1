"""The change feed: each store numbers, reads and prunes it alike; the hub fans it
out to subscribers (and tells a slow one to reload); migration 8 adds its table."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from algomancy_core import SessionManager, change_hub
from algomancy_core import changes as core_changes
from algomancy_core.change_hub import ChangeHub
from algomancy_core.changes import STATUS_KINDS, scenario_payload
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, plan_transition, utcnow
from algomancy_core.stores import MemoryStore, SessionRecord, Store
from algomancy_core.stores.sql import SQLStore
from algomancy_core.stores.sql import changes as sql_changes
from algomancy_core.stores.sql import schema as sql_schema
from algomancy_data import DataSource
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import wait_for

from .conftest import make_config
from .test_core_stores import open_store, sql_url, store, store_url  # noqa: F401 (fixtures)


def test_changes_are_numbered_and_read_by_session(store: Store) -> None:  # noqa: F811
    assert store.change_bounds() == (0, 0)
    first = store.append_change("s1", "scenario.created", "x", {"scenario": {"id": "x"}})
    second = store.append_change("s2", "dataset.added", "d", {"dataset": {"key": "d"}})
    third = store.append_change("s1", "scenario.deleted", "x", {})
    assert first < second < third
    assert store.change_bounds() == (first, third)
    assert [c.seq for c in store.read_changes(0, 10)] == [first, second, third]
    in_s1 = store.read_changes(first - 1, 10, "s1")
    assert [(c.kind, c.subject) for c in in_s1] == [
        ("scenario.created", "x"),
        ("scenario.deleted", "x"),
    ]
    assert in_s1[0].payload == {"scenario": {"id": "x"}}
    assert store.read_changes(first, 1) == store.read_changes(0, 3)[1:2]
    assert store.read_changes(third, 10) == []


def test_sql_stores_prune_to_the_latest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_changes, "CHANGES_KEPT", 5)
    monkeypatch.setattr(sql_changes, "PRUNE_EVERY", 4)
    store = SQLStore(f"sqlite:///{tmp_path / 'db.sqlite3'}")  # noqa: F811
    try:
        for n in range(12):
            store.append_change("s", "dataset.added", str(n), {})
        # Pruned at seq 8 (to 4..8) and at 12 (to 8..12).
        assert store.change_bounds() == (8, 12)
    finally:
        store.close()


def test_a_version_6_database_gets_the_change_feed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    SQLStore(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE changes"))
        conn.execute(sa.text("UPDATE meta SET value = 6 WHERE name = 'schema_version'"))
    engine.dispose()
    store = SQLStore(url)  # noqa: F811
    try:
        assert store.append_change("s", "dataset.added", "d", {}) == 1
    finally:
        store.close()
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT value FROM meta WHERE name = 'schema_version'"))
        assert version.scalar_one() == sql_schema.SCHEMA_VERSION
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("changes")}
    engine.dispose()
    assert "ix_changes_session_seq" in indexes


def test_the_hub_hands_changes_to_their_sessions_subscribers() -> None:
    store = MemoryStore()  # noqa: F811
    hub = ChangeHub(lambda: store)

    async def follow() -> list[str]:
        async with hub.subscribe("s1") as mine, hub.subscribe("s2") as other:
            hub.record("s1", "dataset.added", "a", {})
            hub.record("s2", "dataset.added", "b", {})
            hub.record("s1", "dataset.deleted", "a", {})
            got: list[str] = []
            while len(got) < 2:
                got += [f"{c.kind} {c.subject}" for c in await mine.wait(5)]
            assert [c.subject for c in await other.wait(5)] == ["b"]
            return got

    try:
        assert asyncio.run(follow()) == ["dataset.added a", "dataset.deleted a"]
        assert hub.subscriber_count() == 0
    finally:
        hub.close()


def test_changes_recorded_together_reach_every_subscriber() -> None:
    """`record_many` (an experiment's new scenarios, 500 at a time): one append and
    one wake, and each change still reaches its session's followers."""
    store = MemoryStore()  # noqa: F811
    hub = ChangeHub(lambda: store)
    created = [("s1", "scenario.created", f"p{n}", {"n": n}) for n in range(5)]

    async def follow() -> tuple[list[str], list[str]]:
        async with hub.subscribe("s1") as mine, hub.subscribe("s2") as other:
            hub.record_many([*created[:2], ("s2", "scenario.created", "q", {}), *created[2:]])
            hub.record_many([])
            got: list[str] = []
            while len(got) < 5:
                got += [c.subject for c in await mine.wait(5)]
            return got, [c.subject for c in await other.wait(5)]

    try:
        assert asyncio.run(follow()) == (["p0", "p1", "p2", "p3", "p4"], ["q"])
    finally:
        hub.close()


def test_a_slow_subscriber_overflows_instead_of_buffering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(change_hub, "BUFFER_LIMIT", 3)
    store = MemoryStore()  # noqa: F811
    hub = ChangeHub(lambda: store)

    async def follow() -> tuple[bool, list[str]]:
        async with hub.subscribe("s") as slow:
            # Recorded from another thread while this loop is busy: nothing is read.
            writer = threading.Thread(
                target=lambda: [hub.record("s", "dataset.added", str(n), {}) for n in range(10)]
            )
            writer.start()
            writer.join()
            # The poller hands all ten over; the deliveries then run on this loop.
            await asyncio.to_thread(wait_for, lambda: hub._last_seq == 10)
            for _ in range(5):
                await asyncio.sleep(0)
            overflowed = slow.overflowed
            slow.recover()
            hub.record("s", "dataset.added", "after", {})
            return overflowed, [c.subject for c in await slow.wait(5)]

    try:
        assert asyncio.run(follow()) == (True, ["after"])
    finally:
        hub.close()


def test_managers_record_their_changes(tmp_path: Path) -> None:
    with SessionManager(make_config(has_persistent_state=True, data_path=str(tmp_path))) as s:
        main = s.get_session("main")
        before = s.runtime.store.change_bounds()[1]
        record = main.create_scenario("t", main.list_datasets()[0], "Instant")
        main.run_scenario(record.id)
        main.wait(record.id)
        main.delete_scenario(record.id)
        kinds = [c.kind for c in s.runtime.store.read_changes(before, 100, main.session_id)]
    assert [k for k in kinds if k != "scenario.progress"] == [
        "scenario.created",
        "scenario.queued",
        "scenario.started",
        "scenario.complete",
        "scenario.deleted",
    ]


def test_sql_scenario_writes_append_their_change_in_the_same_transaction(
    store: Store,  # noqa: F811
) -> None:
    store.create_session(SessionRecord("s", "main", utcnow()))
    store.put_dataset("s", "d", DataSource("d"))
    store.add_scenario(ScenarioRecord("x", "s", "t", "d", "A", {}))
    store.apply_transition("x", plan_transition(ScenarioStatus.QUEUED))
    # A move that does not apply appends nothing.
    assert store.apply_transition("x", plan_transition(ScenarioStatus.COMPLETE)) is None
    kinds = [(c.kind, c.payload["scenario"]["status"]) for c in store.read_changes(0, 10)]
    if store.records_scenario_changes:
        assert kinds == [("scenario.created", "created"), ("scenario.queued", "queued")]
    else:
        assert kinds == []  # the caller (Lifecycle) appends them


def test_each_status_move_appends_the_scenario_as_it_now_is(sql_url: str) -> None:  # noqa: F811
    """On SQLite the database appends a status move's change itself (a TEMP
    trigger, `stores/sql/triggers.py`): the same kind and payload as the stores that
    append it in Python, a progress of 1/3 to the last bit, text as it was."""
    opened = open_store(sql_url)
    try:
        _move_and_compare(opened)
    finally:
        opened.close()


def _move_and_compare(store: Store) -> None:  # noqa: F811
    store.create_session(SessionRecord("s", "main", utcnow()))
    store.put_dataset("s", "d", DataSource("d"))
    store.add_scenario(ScenarioRecord("x", "s", 'a "tag", ünï', "d", "A", {}))
    before = utcnow()
    moved = [
        store.apply_transition("x", plan_transition(ScenarioStatus.QUEUED)),
        store.apply_transition("x", plan_transition(ScenarioStatus.PROCESSING)),
    ]
    assert store.update_progress("x", 1 / 3, "a third") is not None
    moved += [
        store.apply_transition(
            "x", plan_transition(ScenarioStatus.FAILED, error='boom: "quoted"\nline 2')
        ),
        store.apply_transition("x", plan_transition(ScenarioStatus.CREATED)),
        store.apply_transition("x", plan_transition(ScenarioStatus.QUEUED)),
    ]
    moved.append(
        store.claim_next(plan_transition(ScenarioStatus.PROCESSING, source=ScenarioStatus.QUEUED))
    )
    moved.append(
        store.apply_transition("x", plan_transition(ScenarioStatus.COMPLETE, result={"r": 1}))
    )
    feed = [c for c in store.read_changes(0, 100) if c.kind != "scenario.progress"][1:]
    assert [(c.kind, c.subject, c.session_id) for c in feed] == [
        (STATUS_KINDS[r.status], "x", "s") for r in moved if r is not None
    ]
    assert [c.payload for c in feed] == [scenario_payload(r) for r in moved if r is not None]
    failed = feed[2].payload["scenario"]
    assert failed["progress"] == 1 / 3 and failed["message"] == "a third"
    assert failed["error"] == 'boom: "quoted"\nline 2'
    assert all(before - timedelta(seconds=5) <= c.at <= utcnow() for c in feed)


def test_sqlite_prunes_the_status_moves_changes_as_its_appends_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_changes, "CHANGES_KEPT", 5)
    monkeypatch.setattr(core_changes, "PRUNE_EVERY", 4)
    store = SQLStore(f"sqlite:///{tmp_path / 'db.sqlite3'}")  # noqa: F811
    try:
        store.create_session(SessionRecord("s", "main", utcnow()))
        store.put_dataset("s", "d", DataSource("d"))
        store.add_scenario(ScenarioRecord("x", "s", "t", "d", "A", {}))  # seq 1
        for _ in range(3):  # seq 2-4, 6-8, 10-12 and the resets at 5 and 9
            for target in (ScenarioStatus.QUEUED, ScenarioStatus.PROCESSING):
                store.apply_transition("x", plan_transition(target))
            store.apply_transition("x", plan_transition(ScenarioStatus.COMPLETE))
            store.apply_transition("x", plan_transition(ScenarioStatus.CREATED))
        # 13 changes. Pruned at seq 8 (to 4..8) and at 12 (to 8..12).
        assert store.change_bounds() == (8, 13)
    finally:
        store.close()
