"""Batch scenarios (an experiment's) in the run queue, on the memory, SQLite and
PostgreSQL stores: they run in parallel, a session's own scenarios still run one
at a time and come first, batches take turns; and migration 13 upgrades a version
12 database to them."""

from __future__ import annotations

import json
import random
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from algomancy_core import ScenarioStatus
from algomancy_core.scenario import ScenarioRecord, plan_claim, plan_copy, plan_transition
from algomancy_core.stores import Store
from algomancy_core.stores.sql import SQLStore
from tests.core.test_core_stores import (  # noqa: F401
    new_session,
    open_store,
    queue,
    small_dataset,
    sql_url,
    store_url,
)
from tests.pg import postgres_server, postgres_url  # noqa: F401

S = ScenarioStatus
LEASE = datetime.now(UTC) + timedelta(hours=1)
COMPLETE = plan_transition(S.COMPLETE, source=S.PROCESSING)


@pytest.fixture
def store(store_url: str | None) -> Iterator[Store]:  # noqa: F811
    """An empty store: memory, SQLite, PostgreSQL."""
    opened = open_store(store_url)
    yield opened
    opened.close()


def queued_scenario(
    store: Store, session_id: str, tag: str, batch: str | None = None
) -> ScenarioRecord:
    """A queued scenario of the session: its own (`batch` None) or the batch's."""
    if "d" not in store.list_datasets(session_id):
        store.put_dataset(session_id, "d", small_dataset("d"))
    record = ScenarioRecord(str(uuid.uuid4()), session_id, tag, "d", "Instant", {}, batch=batch)
    store.add_scenario(record)
    return queue(store, record.id)


def claim(store: Store) -> ScenarioRecord | None:
    return store.claim_next(plan_claim("worker", LEASE))


def complete(store: Store, record: ScenarioRecord) -> None:
    assert store.apply_transition(record.id, COMPLETE) is not None


def test_batch_scenarios_of_one_session_are_claimed_together(store: Store) -> None:
    session = new_session(store)
    batch = [queued_scenario(store, session.id, f"e-{n}", "experiment:e") for n in range(3)]
    claimed = [claim(store) for _ in batch]
    assert [c.id if c else None for c in claimed] == [r.id for r in batch]
    assert store.count_by_status(session.id)[S.PROCESSING] == 3
    assert {r.batch for r in store.list_scenarios(session.id)} == {"experiment:e"}
    # The session's own scenarios: one at a time, beside the batch's.
    first = queued_scenario(store, session.id, "own-1")
    second = queued_scenario(store, session.id, "own-2")
    found = claim(store)
    assert found is not None and found.id == first.id and found.batch is None
    assert claim(store) is None
    complete(store, found)
    found = claim(store)
    assert found is not None and found.id == second.id
    assert store.count_by_status(session.id)[S.PROCESSING] == 4


def test_an_own_scenario_is_claimed_before_50_queued_batch_scenarios(store: Store) -> None:
    busy = new_session(store, "busy")
    other = new_session(store, "other")
    for n in range(50):
        queued_scenario(store, busy.id, f"e-{n}", "experiment:e")
    assert claim(store) is not None and claim(store) is not None  # two workers busy
    mine = queued_scenario(store, other.id, "mine")
    theirs = queued_scenario(store, busy.id, "theirs")
    firsts = [claim(store), claim(store)]
    assert {r.id for r in firsts if r is not None} == {mine.id, theirs.id}
    following = claim(store)
    assert following is not None and following.batch == "experiment:e"


def test_a_claim_ahead_takes_only_a_batch_scenario_and_none_before_an_own(
    store: Store,
) -> None:
    """`claim_many` (points claimed ahead of a free worker): the next batch
    scenarios; nothing while a session's own scenario comes first."""
    session = new_session(store)
    point = queued_scenario(store, session.id, "e-1", "experiment:e")
    own = queued_scenario(store, session.id, "own")
    assert store.claim_many(plan_claim("worker", LEASE), 5) == []
    assert store.get_scenario(session.id, own.id).status is S.QUEUED  # type: ignore[union-attr]
    assert store.get_scenario(session.id, point.id).status is S.QUEUED  # type: ignore[union-attr]
    found = claim(store)
    assert found is not None and found.id == own.id
    ahead = store.claim_many(plan_claim("worker", LEASE), 5)
    assert [(r.id, r.status) for r in ahead] == [(point.id, S.PROCESSING)]
    assert store.claim_many(plan_claim("worker", LEASE), 5) == []


def test_claim_many_takes_points_in_claim_order_up_to_its_count_and_stops_at_an_own(
    store: Store,
) -> None:
    """Several points in one call, in the order `claim_next` takes them (batches
    taking turns); it stops where a session's own scenario is next (queued
    meanwhile, whose one-at-a-time rule holds), and never takes it."""
    first, second = new_session(store, "a"), new_session(store, "b")
    a = [queued_scenario(store, first.id, f"a-{n}", "experiment:a") for n in range(3)]
    b = [queued_scenario(store, second.id, f"b-{n}", "experiment:b") for n in range(3)]
    taken = store.claim_many(plan_claim("worker", LEASE), 4)
    assert [r.id for r in taken] == [a[0].id, b[0].id, a[1].id, b[1].id]
    assert {r.status for r in taken} == {S.PROCESSING}
    assert {r.lease_owner for r in taken} == {"worker"}
    own = queued_scenario(store, second.id, "own")
    assert store.claim_many(plan_claim("worker", LEASE), 4) == []
    assert store.get_scenario(second.id, own.id).status is S.QUEUED  # type: ignore[union-attr]
    found = claim(store)
    assert found is not None and found.id == own.id
    rest = store.claim_many(plan_claim("worker", LEASE), 10)
    assert [r.id for r in rest] == [a[2].id, b[2].id]
    assert store.claim_many(plan_claim("worker", LEASE), 0) == []


def test_batches_of_two_sessions_take_turns(store: Store) -> None:
    """One worker (claim, complete, claim ...): the batches alternate although all
    of the first was queued before the second; several workers: the same."""
    first, second = new_session(store, "a"), new_session(store, "b")
    batches = {}
    for session, batch in ((first, "experiment:a"), (second, "experiment:b")):
        for n in range(4):
            batches[queued_scenario(store, session.id, f"p-{n}", batch).id] = batch
    served = []
    for _ in range(4):
        found = claim(store)
        assert found is not None
        served.append(found.batch)
        complete(store, found)
    assert served == ["experiment:a", "experiment:b"] * 2
    # Two workers, no run ending: still one each in turn.
    served = []
    for _ in range(4):
        found = claim(store)
        assert found is not None
        served.append(found.batch)
    assert served == ["experiment:a", "experiment:b"] * 2
    assert claim(store) is None


def test_random_claims_follow_the_rule(store: Store) -> None:
    """Random queues, claims and completions checked against the rule written out
    plainly: own scenarios first (oldest, of a session with none of its own
    running), then the batch with the fewest running, served least recently,
    the oldest."""
    rng = random.Random(13)
    sessions = [new_session(store, f"s{n}").id for n in range(3)]
    queued: list[ScenarioRecord] = []  # in queue order
    running: list[ScenarioRecord] = []
    last_served: dict[str, int] = {}
    for step in range(120):
        roll = rng.random()
        if roll < 0.4:
            session_id = rng.choice(sessions)
            batch = rng.choice([None, f"experiment:{session_id}", f"experiment:x{session_id}"])
            queued.append(queued_scenario(store, session_id, f"t{step}", batch))
        elif running and roll < 0.65:
            complete(store, running.pop(rng.randrange(len(running))))
        else:
            expected = expected_claim(queued, running, last_served)
            found = claim(store)
            assert (found.id if found else None) == (expected.id if expected else None), step
            if found is not None and expected is not None:
                queued.remove(expected)
                running.append(found)
                if found.batch is not None:
                    last_served[found.batch] = step


def expected_claim(
    queued: list[ScenarioRecord], running: list[ScenarioRecord], last_served: dict[str, int]
) -> ScenarioRecord | None:
    busy_sessions = {r.session_id for r in running if r.batch is None}
    for record in queued:
        if record.batch is None and record.session_id not in busy_sessions:
            return record
    heads: dict[str, ScenarioRecord] = {}
    for record in queued:
        if record.batch is not None and record.batch not in heads:
            heads[record.batch] = record
    if not heads:
        return None
    order = {r.id: n for n, r in enumerate(queued)}

    def key(batch: str) -> tuple[int, int, int]:
        busy = sum(1 for r in running if r.batch == batch)
        return busy, last_served.get(batch, -1), order[heads[batch].id]

    return heads[min(heads, key=key)]


def test_a_version_12_database_gets_batches(sql_url: str) -> None:  # noqa: F811
    """Migration 13: the `batch` column (NULL: every scenario so far is its
    session's own) and the one-processing rule narrowed to a session's own."""
    first = SQLStore(sql_url)
    session = new_session(first)
    running = queued_scenario(first, session.id, "running")
    assert claim(first) is not None
    waiting = queued_scenario(first, session.id, "waiting")
    first.close()
    engine = sa.create_engine(sql_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:  # back to version 12's layout
        for index in (
            "uq_scenarios_one_processing",
            "ix_scenarios_queue",
            "ix_scenarios_batch_queue",
            "ix_scenarios_batch_served",
        ):
            conn.execute(sa.text(f"DROP INDEX {index}"))
        conn.execute(sa.text("ALTER TABLE scenarios DROP COLUMN batch"))
        conn.execute(
            sa.text(
                "CREATE UNIQUE INDEX uq_scenarios_one_processing ON scenarios (session_id) "
                "WHERE status = 'processing'"
            )
        )
        conn.execute(
            sa.text("CREATE INDEX ix_scenarios_queue ON scenarios (status, session_id, queue_seq)")
        )
        conn.execute(sa.text("UPDATE meta SET value = 12 WHERE name = 'schema_version'"))
    engine.dispose()
    reopened = SQLStore(sql_url)
    try:
        listed = {r.tag: r for r in reopened.list_scenarios(session.id)}
        assert listed["running"].status is S.PROCESSING and listed["running"].id == running.id
        assert {r.batch for r in listed.values()} == {None}
        assert claim(reopened) is None  # "waiting" is the session's own: it waits
        parallel = [queued_scenario(reopened, session.id, f"e-{n}", "experiment:e") for n in (1, 2)]
        assert {c.id if c else None for c in (claim(reopened), claim(reopened))} == {
            r.id for r in parallel
        }
        # The database itself still refuses a second processing own scenario.
        forced = reopened.apply_transition(waiting.id, plan_transition(S.PROCESSING))
        assert forced is None
        assert reopened.get_scenario(session.id, waiting.id).status is S.QUEUED  # type: ignore[union-attr]
    finally:
        reopened.close()


def test_a_copy_to_another_session_is_its_own() -> None:
    """A batch scenario copied to another session leaves the batch behind (the
    experiment belongs to the first session)."""
    record = ScenarioRecord("a", "s", "t", "d", "Instant", {}, batch="experiment:e")
    assert plan_copy(record, "b", "other").batch is None


DATA = Path(__file__).parent / "data"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def version_12_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[str, dict[str, Any]]:
    """A database filled by the code of schema version 12 (`data/make_version_12.py`
    wrote the files), and the ids in it."""
    ids: dict[str, Any] = json.loads((DATA / "version_12.json").read_text())[request.param]
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        dump = (DATA / "version_12.postgres.sql").read_text()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute(dump.encode())
        return url, ids
    copy = tmp_path / "old.sqlite3"
    shutil.copyfile(DATA / "version_12.sqlite3", copy)
    return f"sqlite:///{copy}", ids


def scenario_indexes(url: str) -> dict[str, str]:
    """Name → definition of each index on `scenarios`, spelled as the database keeps it."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                sql = (
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = 'scenarios'"
                )
            else:
                sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'scenarios'"
            return {name: definition for name, definition in conn.execute(sa.text(sql)).all()}
    finally:
        engine.dispose()


def test_a_database_of_version_12_migrates_to_batches(
    version_12_database: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    """Opened by this code, a database of the version 12 code keeps every scenario
    and experiment, each scenario its session's own (batch NULL), and gets the same
    indexes as a new database."""
    url, ids = version_12_database
    assert ids["schema"] == 12
    migrated = SQLStore(url)
    try:
        session = migrated.find_session("main", None)
        assert session is not None
        listed = {r.id: r for r in migrated.list_scenarios(session.id)}
        assert set(listed) == {ids["done"], ids["waiting"], *ids["points"]}
        assert {r.batch for r in listed.values()} == {None}
        assert listed[ids["done"]].status is S.COMPLETE and listed[ids["done"]].kpis
        assert listed[ids["waiting"]].parameters == {"count": 7}
        experiment = migrated.experiments.get(session.id, ids["experiment"])
        assert experiment is not None and experiment.scenario_ids == ids["points"]
        # Batch scenarios now run beside the session's own.
        own = queue(migrated, ids["waiting"])
        batch = [queued_scenario(migrated, session.id, f"e-{n}", "experiment:e") for n in (1, 2)]
        claimed = [claim(migrated) for _ in range(3)]
        assert [c.id if c else None for c in claimed] == [own.id, batch[0].id, batch[1].id]
    finally:
        migrated.close()
    if url.startswith("sqlite"):
        fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    else:
        name = f"fresh_{uuid.uuid4().hex}"
        fresh = sa.make_url(url).set(database=name).render_as_string(hide_password=False)
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        engine.dispose()
    SQLStore(fresh).close()
    assert scenario_indexes(url) == scenario_indexes(fresh)


def test_racing_claims_keep_the_rule(store: Store) -> None:
    """Eight threads claim and complete a mixed queue at once: each scenario is
    claimed once, and a session never has two of its own processing."""
    ids = set()
    for s in range(3):
        session = new_session(store, f"race{s}")
        for n in range(30):
            batch = None if n % 3 == 0 else f"experiment:{s}"
            ids.add(queued_scenario(store, session.id, f"r{n}", batch).id)
    claimed: list[str] = []
    problems: list[str] = []
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            while True:
                record = claim(store)
                if record is None:
                    if not store.count_by_status()[S.QUEUED]:
                        return
                    time.sleep(0.001)  # the rest wait for a session's own run to end
                    continue
                claimed.append(record.id)
                if record.batch is None:
                    own = [
                        r.id
                        for r in store.list_scenarios(record.session_id)
                        if r.status is S.PROCESSING and r.batch is None
                    ]
                    if own != [record.id]:
                        problems.append(f"session {record.session_id}: own processing {own}")
                complete(store, record)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and problems == []
    assert sorted(claimed) == sorted(ids)
