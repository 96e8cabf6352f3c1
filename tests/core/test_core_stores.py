"""Store conformance: memory, SQLite and PostgreSQL behave the same.

Every behaviour test runs against each store; the SQL stores are also checked for
what they keep on disk (no orphan rows, everything back after re-opening) and for
claims racing between threads and between processes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import stat
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from algomancy_core import (
    ConfigurationError,
    ConflictError,
    NotFoundError,
    ScenarioStatus,
    SessionManager,
)
from algomancy_core.scenario import ScenarioRecord, plan_claim, plan_transition
from algomancy_core.stores import MemoryStore, SessionRecord, Store
from algomancy_core.stores.base import LatestMoved
from algomancy_core.stores.sql import SchemaVersionError, SQLStore
from algomancy_data import DataClassification, DataSource
from tests.pg import postgres_server, postgres_url  # noqa: F401

from .conftest import make_config

S = ScenarioStatus
T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
CLAIM = plan_transition(S.PROCESSING, source=S.QUEUED)
COMPLETE = plan_transition(S.COMPLETE, source=S.PROCESSING, result={"x": 1.5}, kpis={"k": 2.0})


# -- fixtures and helpers ----------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None for the memory store, else the URL of an empty database."""
    if request.param == "memory":
        return None
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'algomancy.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty SQL database: for what only the SQL stores promise."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'algomancy.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def open_store(url: str | None, **options: object) -> Store:
    return MemoryStore() if url is None else SQLStore(url, **options)  # type: ignore[arg-type]


@pytest.fixture
def store(store_url: str | None) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


def new_session(store: Store, name: str = "main", owner: str | None = None) -> SessionRecord:
    record = SessionRecord(id=str(uuid.uuid4()), display_name=name, created_at=T0, owner=owner)
    store.create_session(record)
    return record


def scenario_record(
    session_id: str, tag: str, *, status: S = S.CREATED, dataset: str = "d", **fields: Any
) -> ScenarioRecord:
    """A scenario record of `session_id`, not stored."""
    return ScenarioRecord(
        id=str(uuid.uuid4()),
        session_id=session_id,
        tag=tag,
        dataset_key=dataset,
        algorithm="Instant",
        parameters={"count": 3, "ratio": 0.1, "names": ["a", "b"], "nested": {"x": None}},
        status=status,
        created_at=T0,
        queued_at=T0 if status is S.QUEUED else None,
        timeout=12.5,
        **fields,
    )


def new_scenario(
    store: Store, session_id: str, tag: str, *, status: S = S.CREATED, dataset: str = "d"
) -> ScenarioRecord:
    record = scenario_record(session_id, tag, status=status, dataset=dataset)
    if dataset not in store.list_datasets(session_id):
        store.put_dataset(session_id, dataset, small_dataset(dataset))
    store.add_scenario(record)
    return record


def queue(store: Store, scenario_id: str) -> ScenarioRecord:
    queued = store.apply_transition(scenario_id, plan_transition(S.QUEUED))
    assert queued is not None
    return queued


def queued(store: Store) -> int:
    return store.count_by_status()[S.QUEUED]


def small_dataset(name: str = "ds", qty: int = 1) -> DataSource:
    return DataSource(name, tables={"items": pd.DataFrame({"qty": [qty, 2, 3]})})


def row_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return {
                table: int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("sessions", "datasets", "scenarios")
            }
    finally:
        engine.dispose()


# -- sessions ----------------------------------------------------------------------


def test_sessions_crud(store: Store) -> None:
    first = new_session(store, "first")
    second = new_session(store, "second")
    assert store.get_session(first.id) == first
    assert store.get_session("nope") is None
    assert store.find_session("second", None) == second
    assert store.find_session("second", "alice") is None
    assert store.list_sessions(None) == [first, second]
    assert store.count_sessions(None) == 2
    renamed = store.rename_session(first.id, "renamed")
    assert renamed.display_name == "renamed" and renamed.created_at == T0
    assert store.get_session(first.id) == renamed
    assert store.find_session("first", None) is None
    with pytest.raises(ConflictError, match="second"):
        store.rename_session(first.id, "second")
    assert store.rename_session(first.id, "renamed") == renamed
    with pytest.raises(NotFoundError):
        store.rename_session("nope", "x")
    store.delete_session(first.id)
    assert store.get_session(first.id) is None
    assert store.list_sessions(None) == [second]
    with pytest.raises(NotFoundError):
        store.delete_session(first.id)


def test_session_names_are_unique_per_owner(store: Store) -> None:
    new_session(store, "main")
    with pytest.raises(ConflictError, match="main"):
        new_session(store, "main")
    alice = new_session(store, "main", owner="alice")
    with pytest.raises(ConflictError):
        new_session(store, "main", owner="alice")
    bob = new_session(store, "main", owner="bob")
    assert store.find_session("main", "alice") == alice
    assert store.list_sessions("bob") == [bob]
    assert store.count_sessions(None) == 1
    assert store.list_sessions("alice") == [alice] and alice.owner == "alice"
    other = new_session(store, "other", owner="bob")
    with pytest.raises(ConflictError):
        store.rename_session(other.id, "main")
    assert store.rename_session(other.id, "free").owner == "bob"


FULL_WIDTH_WEEK1 = "\uff37\uff45\uff45\uff4b\uff11"


def test_look_alike_names_are_one_name(store: Store) -> None:
    """Names equal once case, width and Unicode form are folded collide (409 naming
    the existing one); a rename may change its own name's case."""
    week = new_session(store, "Week1")
    with pytest.raises(ConflictError, match="session named 'Week1' already exists"):
        new_session(store, FULL_WIDTH_WEEK1)
    assert new_session(store, "week1", owner="alice").owner == "alice"
    other = new_session(store, "other")
    with pytest.raises(ConflictError, match="'Week1' already exists"):
        store.rename_session(other.id, "WEEK1")
    assert store.rename_session(week.id, "WEEK1").display_name == "WEEK1"
    store.delete_session(week.id)
    assert new_session(store, "week1").display_name == "week1"

    store.put_dataset(other.id, "Data", small_dataset())
    for look_alike in ("data", "DATA"):
        with pytest.raises(ConflictError, match="dataset 'Data' already exists"):
            store.put_dataset(other.id, look_alike, small_dataset(), replace=True)
    store.put_dataset(other.id, "Data", small_dataset(qty=5), replace=True)
    assert store.list_datasets(other.id) == ["Data"]
    store.put_dataset(other.id, "d", DataSource("d"))
    new_scenario(store, other.id, "Run A")
    with pytest.raises(ConflictError, match="scenario tagged 'Run A' already exists"):
        new_scenario(store, other.id, "run a")
    store.delete_dataset(other.id, "Data")
    store.put_dataset(other.id, "DATA", small_dataset())
    assert store.list_datasets(other.id) == ["d", "DATA"]


def test_look_alike_names_are_refused_by_the_database_itself(sql_url: str) -> None:
    """Unique indexes on the folded keys: a second process's insert that raced past
    the look-up is refused by the database."""
    store = SQLStore(sql_url)
    session = new_session(store, "Week1")
    store.close()
    engine = sa.create_engine(sql_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO sessions (id, display_name, owner, created_at, position, "
                    "name_key) VALUES ('x', 'WEEK1', '', :t, 99, 'week1')"
                ),
                {"t": T0},
            )
        indexes = {
            table: {i["name"]: i for i in sa.inspect(engine).get_indexes(table)}
            for table in ("sessions", "datasets", "scenarios")
        }
    finally:
        engine.dispose()
    assert indexes["sessions"]["uq_sessions_owner_name_key"]["unique"]
    assert indexes["datasets"]["uq_datasets_session_name_key"]["unique"]
    assert indexes["scenarios"]["uq_scenarios_session_tag_key"]["unique"]
    assert session.display_name == "Week1"


# -- datasets ----------------------------------------------------------------------


def test_datasets_put_get_replace_list_delete(store: Store) -> None:
    session = new_session(store)
    store.put_dataset(session.id, "b", small_dataset("b", qty=1))
    store.put_dataset(session.id, "a", small_dataset("a"))
    store.put_dataset(session.id, "c", small_dataset("c"))
    assert store.list_datasets(session.id) == ["b", "a", "c"]
    with pytest.raises(ConflictError, match="'b'"):
        store.put_dataset(session.id, "b", small_dataset())
    assert store.get_dataset(session.id, "b").get_table("items")["qty"].tolist() == [1, 2, 3]
    store.put_dataset(session.id, "b", small_dataset("b2", qty=9), replace=True)
    replaced = store.get_dataset(session.id, "b")
    assert replaced.name == "b2"
    assert replaced.get_table("items")["qty"].tolist() == [9, 2, 3]
    assert store.list_datasets(session.id) == ["a", "c", "b"]
    with pytest.raises(NotFoundError, match="'zz'"):
        store.get_dataset(session.id, "zz")
    with pytest.raises(NotFoundError):
        store.put_dataset("no-session", "x", small_dataset())
    store.delete_dataset(session.id, "a")
    assert store.list_datasets(session.id) == ["c", "b"]
    with pytest.raises(NotFoundError):
        store.get_dataset(session.id, "a")
    with pytest.raises(NotFoundError):
        store.delete_dataset(session.id, "a")
    other = new_session(store, "other")
    assert store.list_datasets(other.id) == []


def test_a_dataset_version_describes_the_dataset(store: Store) -> None:
    session = new_session(store)
    data = DataSource(
        "info",
        DataClassification.DERIVED_DATA,
        created_at=T0,
        tables={"a": pd.DataFrame({"x": range(5)}), "b": pd.DataFrame({"y": []})},
    )
    store.put_dataset(session.id, "info", data)
    info = store.dataset_version(session.id, "info")
    assert info.key == "info"
    assert info.classification == "derived_data"
    assert info.created_at == T0 and info.created_at.tzinfo is not None
    assert info.tables == {"a": 5, "b": 0}
    with pytest.raises(NotFoundError):
        store.dataset_version(session.id, "nope")


def test_dataset_in_use_cannot_be_deleted(store: Store) -> None:
    session = new_session(store)
    store.put_dataset(session.id, "d", small_dataset())
    new_scenario(store, session.id, "zeta")
    alpha = new_scenario(store, session.id, "alpha")
    with pytest.raises(ConflictError, match="alpha, zeta"):
        store.delete_dataset(session.id, "d")
    store.delete_scenario(session.id, alpha.id)
    with pytest.raises(ConflictError, match="zeta"):
        store.delete_dataset(session.id, "d")
    assert store.list_datasets(session.id) == ["d"]


def rich_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "int": np.array([1, -2, 2**40], dtype="int64"),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "float": [0.1, float("nan"), 1e300],
            "text": pd.array(["a", "ü €", None], dtype="string"),
            "flag": [True, False, True],
            "category": pd.Categorical(["low", "high", "low"], categories=["low", "high"]),
            "when": pd.to_datetime(
                ["2024-01-01T00:00:00.000001Z", None, "2024-06-30T23:59:59Z"],
                format="ISO8601",
                utc=True,
            ).tz_convert("Europe/Amsterdam"),
        }
    )


def test_dataset_round_trip_is_exact(store_url: str | None) -> None:
    data = DataSource(
        "rich",
        created_at=T0,
        tables={"rich": rich_frame(), "empty": pd.DataFrame({"x": pd.Series([], dtype="int64")})},
        data_parameters={"horizon": 7},
    )
    store = open_store(store_url)
    try:
        session = new_session(store)
        store.put_dataset(session.id, "rich", data)
        if store_url is not None:
            store.close()  # read back from the database, not a cache
            store = open_store(store_url)
        back = store.get_dataset(session.id, "rich")
        assert store.get_dataset(session.id, "rich") is back  # decoded once
    finally:
        store.close()
    assert (back.name, back.id, back.created_at) == (data.name, data.id, T0)
    assert back.data_parameters == {"horizon": 7}
    assert back.list_tables() == ["rich", "empty"]
    for name in data.list_tables():
        pd.testing.assert_frame_equal(back.get_table(name), data.get_table(name), check_exact=True)


class Warehouse(DataSource):
    """A subclass the store must rebuild as itself."""


def test_sql_store_rebuilds_the_configured_data_class(sql_url: str) -> None:
    store = SQLStore(sql_url, data_object_type=Warehouse)
    try:
        session = new_session(store)
        store.put_dataset(session.id, "w", small_dataset())
        assert type(store.get_dataset(session.id, "w")) is Warehouse
    finally:
        store.close()


# -- scenarios ---------------------------------------------------------------------


def test_scenarios_add_get_list_delete(store: Store) -> None:
    session = new_session(store)
    other = new_session(store, "other")
    first = new_scenario(store, session.id, "first")
    second = new_scenario(store, session.id, "second")
    elsewhere = new_scenario(store, other.id, "first")
    got = store.get_scenario(session.id, first.id)
    assert got == first
    assert got is not None and got.created_at.tzinfo is not None and got.timeout == 12.5
    assert store.get_scenario(other.id, first.id) is None
    assert store.get_scenario(other.id, elsewhere.id) == elsewhere
    assert store.get_scenario(session.id, "nope") is None
    assert store.list_scenarios(session.id) == [first, second]
    with pytest.raises(ConflictError, match="'first'"):
        new_scenario(store, session.id, "first")
    with pytest.raises(NotFoundError):
        new_scenario(store, "no-session", "x")
    with pytest.raises(NotFoundError):
        store.delete_scenario(other.id, first.id)
    store.delete_scenario(session.id, first.id)
    assert store.list_scenarios(session.id) == [second]
    assert store.get_scenario(session.id, first.id) is None
    assert store.count_by_status() == {**dict.fromkeys(S, 0), S.CREATED: 2}
    assert store.count_by_status(other.id)[S.CREATED] == 1


def test_versions_of_a_page_and_scenarios_by_id(store: Store) -> None:
    """What a kept listing reads (`algomancy_api.listing`): `(id, version)` in list
    order, then whole records of the ids it has not kept, of that session only."""
    session, other = new_session(store), new_session(store, "other")
    first, second, third = (new_scenario(store, session.id, tag) for tag in "abc")
    elsewhere = new_scenario(store, other.id, "a")
    assert store.page_scenario_versions(session.id, None, None, 0) == [
        (first.id, 0),
        (second.id, 0),
        (third.id, 0),
    ]
    queue(store, second.id)
    assert store.page_scenario_versions(session.id, None, 1, 1) == [(second.id, 1)]
    assert store.page_scenario_versions(session.id, "no such", None, 0) == []
    found = store.get_scenarios(session.id, [third.id, "nope", elsewhere.id, first.id])
    assert sorted(found, key=lambda r: r.tag) == [first, third]
    (light,) = store.get_scenarios(session.id, [first.id], summaries=True)
    assert light.parameters == first.parameters and light.version == 0
    many = [new_scenario(store, other.id, f"m{i}").id for i in range(600)]
    assert len(store.get_scenarios(other.id, many)) == 600


def test_transitions_follow_their_sources(store: Store) -> None:
    session = new_session(store)
    record = new_scenario(store, session.id, "s")
    assert store.apply_transition(record.id, COMPLETE) is None  # created → complete
    assert store.apply_transition("nope", plan_transition(S.QUEUED)) is None
    queued = queue(store, record.id)
    assert queued.status is S.QUEUED and queued.version == 1
    assert queued.queued_at is not None and queued.queued_at.tzinfo is not None
    assert store.apply_transition(record.id, plan_transition(S.QUEUED)) is None  # no re-queue
    processing = store.apply_transition(record.id, CLAIM)
    assert processing is not None and processing.status is S.PROCESSING
    assert processing.version == 2 and processing.started_at is not None
    assert store.apply_transition(record.id, CLAIM) is None
    done = store.apply_transition(record.id, COMPLETE)
    assert done is not None and done.status is S.COMPLETE and done.version == 3
    assert done.result == {"x": 1.5} and done.kpis == {"k": 2.0} and done.progress == 1.0
    # Written records come back typed (SQLite's RETURNING skips column affinity).
    assert type(done.progress) is float and type(queued.progress) is float
    assert store.get_scenario(session.id, record.id) == done
    assert store.apply_transition(record.id, plan_transition(S.FAILED)) is None
    again = queue(store, record.id)
    assert again.result is None and again.kpis == {} and again.finished_at is None
    failed = store.apply_transition(record.id, plan_transition(S.FAILED, error="cancelled"))
    assert failed is not None and failed.status is S.FAILED and failed.error == "cancelled"
    assert store.get_scenario(session.id, record.id) == failed
    assert failed.version == 5


def test_claim_is_fifo_and_one_per_session(store: Store) -> None:
    a = new_session(store, "a")
    b = new_session(store, "b")
    a1 = new_scenario(store, a.id, "a1")
    a2 = new_scenario(store, a.id, "a2")
    b1 = new_scenario(store, b.id, "b1")
    assert store.claim_next(plan_claim("w", T0)) is None
    assert not queued(store)
    b2 = new_scenario(store, b.id, "b2", status=S.QUEUED)  # queued on creation: first
    for record in (a1, a2, b1):
        queue(store, record.id)
    lease = T0 + timedelta(seconds=30)
    first = store.claim_next(plan_claim("w1", lease))
    assert first is not None and first.id == b2.id
    assert first.lease_owner == "w1" and first.lease_expires_at == lease
    second = store.claim_next(plan_claim("w2", lease))
    assert second is not None and second.id == a1.id
    # a2 and b1 wait for their sessions: queued, and nothing to claim
    assert queued(store) == 2 and store.claim_next(plan_claim("w3", lease)) is None
    assert store.apply_transition(a1.id, COMPLETE) is not None
    queue(store, a1.id)  # re-queued: behind a2
    third = store.claim_next(plan_claim("w3", lease))
    assert third is not None and third.id == a2.id
    assert store.apply_transition(a2.id, COMPLETE) is not None
    assert store.apply_transition(b2.id, COMPLETE) is not None
    fourth = store.claim_next(plan_claim("w3", lease))
    assert fourth is not None and fourth.id == b1.id
    fifth = store.claim_next(plan_claim("w3", lease))
    assert fifth is not None and fifth.id == a1.id
    assert store.count_by_status() == {**dict.fromkeys(S, 0), S.COMPLETE: 2, S.PROCESSING: 2}


def test_claims_take_the_oldest_queued_of_an_idle_session(store: Store) -> None:
    """Against a model of the queue: many sessions, some busy with long queues; each
    claim must take the oldest queued scenario whose session has nothing processing."""
    rng = random.Random(7)
    sessions = [new_session(store, f"s{i}") for i in range(6)]
    records = [
        new_scenario(store, session.id, f"{session.display_name}-{n}")
        for session in sessions
        for n in range(6)
    ]
    rng.shuffle(records)
    order: list[str] = []  # queued ids, oldest first
    session_of = {r.id: r.session_id for r in records}
    processing: dict[str, str] = {}  # session id -> scenario id
    pending = list(records)
    lease = T0 + timedelta(seconds=30)
    while pending or order or processing:
        roll = rng.random()
        if pending and roll < 0.5:
            record = pending.pop()
            queue(store, record.id)
            order.append(record.id)
        elif processing and roll < 0.75:
            session_id = rng.choice(sorted(processing))
            assert store.apply_transition(processing.pop(session_id), COMPLETE) is not None
        else:
            expected = next((i for i in order if session_of[i] not in processing), None)
            claimed = store.claim_next(plan_claim("w", lease))
            assert (claimed.id if claimed else None) == expected
            if claimed is not None:
                order.remove(claimed.id)
                processing[claimed.session_id] = claimed.id


def test_progress_only_while_processing(store: Store) -> None:
    session = new_session(store)
    record = new_scenario(store, session.id, "s")
    assert store.update_progress(record.id, 0.5, "ignored") is None
    assert store.get_scenario(record.session_id, record.id) == record
    queue(store, record.id)
    claimed = store.claim_next(plan_claim("w", T0))
    assert claimed is not None
    written = store.update_progress(record.id, 0.25, "a quarter")
    current = store.get_scenario(record.session_id, record.id)
    assert current is not None
    assert (current.progress, current.progress_message) == (0.25, "a quarter")
    assert current.version == claimed.version + 1
    assert written == current  # the record as written, so no read is needed to announce it
    assert store.update_progress("nope", 0.5, None) is None


def test_count_scenarios_counts_one_session(store: Store) -> None:
    first, second = new_session(store), new_session(store, "other")
    assert store.count_scenarios(first.id) == 0
    for tag in ("a", "b", "c"):
        new_scenario(store, first.id, tag)
    new_scenario(store, second.id, "a")
    assert (store.count_scenarios(first.id), store.count_scenarios(second.id)) == (3, 1)
    store.delete_scenario(first.id, store.list_scenarios(first.id)[0].id)
    assert store.count_scenarios(first.id) == 2


def test_cancel_flag(store: Store) -> None:
    session = new_session(store)
    record = new_scenario(store, session.id, "s")
    assert store.request_cancel(record.id) is False
    assert store.get_scenario(record.session_id, record.id) == record
    queue(store, record.id)
    store.claim_next(plan_claim("w", T0))
    assert store.request_cancel(record.id) is True
    current = store.get_scenario(record.session_id, record.id)
    assert current is not None and current.cancel_requested
    renewed = store.renew_leases("w", T0 + timedelta(seconds=5))
    assert [r.cancel_requested for r in renewed] == [True]
    # A flagged run cannot complete, in the same atomic write: the cancel wins.
    assert store.apply_transition(record.id, COMPLETE) is None
    failed = plan_transition(S.FAILED, source=S.PROCESSING, error="cancelled")
    assert store.apply_transition(record.id, failed) is not None
    assert not queue(store, record.id).cancel_requested
    store.claim_next(plan_claim("w", T0))
    assert store.apply_transition(record.id, COMPLETE) is not None
    assert store.request_cancel(record.id) is False


def test_leases(store: Store) -> None:
    sessions = [new_session(store, f"s{i}") for i in range(3)]
    records = [new_scenario(store, s.id, "run") for s in sessions]
    for record in records:
        queue(store, record.id)
    soon, later = T0 + timedelta(seconds=10), T0 + timedelta(seconds=60)
    one = store.claim_next(plan_claim("alpha", soon))
    two = store.claim_next(plan_claim("beta", soon))
    three = store.claim_next(plan_claim("alpha", soon))
    assert one and two and three
    assert store.active_owners() == ["alpha", "beta"]
    renewed = store.renew_leases("alpha", later)
    assert sorted(r.id for r in renewed) == sorted([one.id, three.id])
    assert all(r.lease_expires_at == later and r.status is S.PROCESSING for r in renewed)
    assert store.renew_leases("nobody", later) == []
    assert [r.id for r in store.expired_runs(T0 + timedelta(seconds=30))] == [two.id]
    assert store.expired_runs(T0) == []
    assert sorted(r.id for r in store.expired_runs(later + timedelta(seconds=1))) == sorted(
        [one.id, two.id, three.id]
    )
    assert [r.id for r in store.runs_held_by(["beta", "gamma"])] == [two.id]
    assert store.runs_held_by([]) == []
    done = store.apply_transition(two.id, COMPLETE)
    assert done is not None and done.lease_owner is None and done.lease_expires_at is None
    assert store.active_owners() == ["alpha"]
    assert store.runs_held_by(["beta"]) == []
    assert store.renew_leases("beta", later) == []


def test_delete_session_removes_everything(store: Store, store_url: str | None) -> None:
    keep = new_session(store, "keep")
    store.put_dataset(keep.id, "d", small_dataset())
    kept = new_scenario(store, keep.id, "kept")
    gone = new_session(store, "gone")
    store.put_dataset(gone.id, "d", small_dataset())
    store.get_dataset(gone.id, "d")
    removed = [new_scenario(store, gone.id, f"s{i}") for i in range(3)]
    queue(store, removed[0].id)
    queue(store, removed[1].id)
    assert store.claim_next(plan_claim("w", T0)) is not None  # `kept` is not queued
    store.delete_session(gone.id)
    assert all(store.get_scenario(r.session_id, r.id) is None for r in removed)
    assert store.list_scenarios(gone.id) == [] and store.list_datasets(gone.id) == []
    with pytest.raises(NotFoundError):
        store.get_dataset(gone.id, "d")
    assert not queued(store) and store.active_owners() == []
    assert store.list_scenarios(keep.id) == [kept]
    if store_url is not None:
        assert row_counts(store_url) == {"sessions": 1, "datasets": 1, "scenarios": 1}


# -- SQL only ----------------------------------------------------------------------


def test_reopening_finds_everything_back(sql_url: str) -> None:
    store = SQLStore(sql_url)
    session = new_session(store, "main", owner="alice")
    store.put_dataset(session.id, "d", small_dataset())
    record = new_scenario(store, session.id, "s")
    queue(store, record.id)
    store.claim_next(plan_claim("w", T0 + timedelta(minutes=1)))
    store.update_progress(record.id, 0.75, "almost")
    running = store.get_scenario(record.session_id, record.id)
    other = new_scenario(store, session.id, "later", status=S.QUEUED)
    store.close()

    reopened = SQLStore(sql_url)
    try:
        assert reopened.list_sessions("alice") == [session]
        assert reopened.list_datasets(session.id) == ["d"]
        assert reopened.dataset_version(session.id, "d").tables == {"items": 3}
        assert reopened.list_scenarios(session.id) == [running, other]
        assert reopened.active_owners() == ["w"]
        assert queued(reopened) == 1
    finally:
        reopened.close()


def test_a_newer_schema_is_refused(sql_url: str) -> None:
    SQLStore(sql_url).close()
    engine = sa.create_engine(sql_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE meta SET value = 99 WHERE name = 'schema_version'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="schema version 99"):
        SQLStore(sql_url)


def test_an_older_schema_is_migrated_once(sql_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from algomancy_core.stores.sql import migrations
    from algomancy_core.stores.sql import schema as sql

    SQLStore(sql_url).close()
    applied: list[int] = []

    def add_note(conn: sa.Connection) -> None:
        applied.append(2)
        conn.execute(sa.text("ALTER TABLE sessions ADD COLUMN note TEXT"))

    next_version = sql.SCHEMA_VERSION + 1
    monkeypatch.setattr(sql, "SCHEMA_VERSION", next_version)
    monkeypatch.setitem(migrations.MIGRATIONS, next_version, lambda conn: add_note(conn))
    SQLStore(sql_url).close()
    SQLStore(sql_url).close()
    assert applied == [2]
    engine = sa.create_engine(sql_url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT value FROM meta WHERE name = 'schema_version'"))
        assert version.scalar_one() == next_version
    engine.dispose()


def test_postgresql_urls_use_psycopg(postgres_url: str) -> None:  # noqa: F811
    store = SQLStore(postgres_url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        assert store.engine.url.drivername == "postgresql+psycopg"
    finally:
        store.close()


def test_sqlite_uses_wal_in_the_data_path(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "algomancy.sqlite3"
    store = SQLStore(f"sqlite:///{path}", data_path=tmp_path / "deep")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        store.close()
    assert path.exists()
    with pytest.raises(ConfigurationError, match="file path"):
        SQLStore("sqlite://")


# -- concurrency -------------------------------------------------------------------

SESSIONS, SCENARIOS = 10, 200


def fill_queue(store: Store) -> set[str]:
    sessions = [new_session(store, f"s{i}") for i in range(SESSIONS)]
    ids = set()
    for i in range(SCENARIOS):
        record = new_scenario(store, sessions[i % SESSIONS].id, f"run{i}")
        queue(store, record.id)
        ids.add(record.id)
    return ids


def drain(store: Store, owner: str) -> tuple[list[str], list[str]]:
    """Claim and complete until nothing is left; returns (claimed ids, problems seen)."""
    claimed: list[str] = []
    problems: list[str] = []
    lease = datetime.now(UTC) + timedelta(minutes=5)
    while True:
        record = store.claim_next(plan_claim(owner, lease))
        if record is None:
            if not queued(store):
                return claimed, problems
            time.sleep(0.001)  # the rest wait for busy sessions
            continue
        claimed.append(record.id)
        busy = [s.id for s in store.list_scenarios(record.session_id) if s.status is S.PROCESSING]
        if busy != [record.id]:
            problems.append(f"{owner}: session {record.session_id} processing {busy}")
        if store.apply_transition(record.id, COMPLETE) is None:
            problems.append(f"{owner}: could not complete {record.id}")


def drain_in_threads(store: Store, prefix: str, threads: int) -> tuple[list[str], list[str]]:
    results: list[tuple[list[str], list[str]]] = []
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            results.append(drain(store, f"{prefix}-{n}"))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return [i for c, _ in results for i in c], [p for _, ps in results for p in ps]


def drain_in_process(url: str, prefix: str) -> tuple[list[str], list[str]]:
    store = SQLStore(url)
    try:
        return drain_in_threads(store, prefix, threads=3)
    finally:
        store.close()


def check_drained(store: Store, ids: set[str], claimed: list[str], problems: list[str]) -> None:
    assert problems == []
    counts = Counter(claimed)
    assert set(counts) == ids
    assert max(counts.values()) == 1
    assert store.count_by_status() == {**dict.fromkeys(S, 0), S.COMPLETE: SCENARIOS}


def test_concurrent_claims_in_threads(store: Store) -> None:
    ids = fill_queue(store)
    claimed, problems = drain_in_threads(store, "thread", threads=8)
    check_drained(store, ids, claimed, problems)


@pytest.mark.slow  # claims from several processes
def test_concurrent_claims_in_processes(sql_url: str) -> None:
    store = SQLStore(sql_url)
    try:
        ids = fill_queue(store)
        context = multiprocessing.get_context("spawn")
        with context.Pool(3) as pool:
            outcomes = pool.starmap(drain_in_process, [(sql_url, f"proc{n}") for n in range(3)])
        claimed = [i for c, _ in outcomes for i in c]
        problems = [p for _, ps in outcomes for p in ps]
        check_drained(store, ids, claimed, problems)
    finally:
        store.close()


# -- managers over SQLite ----------------------------------------------------------


def test_session_manager_state_survives_a_restart(tmp_path: Path) -> None:
    config = make_config(has_persistent_state=True, data_path=str(tmp_path))
    with SessionManager(config) as manager:
        main = manager.get_session("main")
        record = main.create_scenario("persisted", "Master data", "Instant", {"count": 4})
        main.run_scenario(record.id)
        done = main.wait(record.id, timeout=10)
        assert done.status is S.COMPLETE
        session_id = main.session_id
    assert (tmp_path / "algomancy.sqlite3").exists()

    with SessionManager(make_config(has_persistent_state=True, data_path=str(tmp_path))) as again:
        assert [s.display_name for s in again.list_sessions()] == ["main"]
        main = again.get_session("main")
        assert main.session_id == session_id
        assert main.list_datasets() == ["Master data"]
        assert main.get_dataset("Master data").get_table("items")["qty"].tolist() == [1, 2, 3]
        back = main.get_scenario(record.id)
        assert back == done
        assert back.status is S.COMPLETE
        assert back.result == {"total": 6, "count": 4} and back.kpis == {"total": 6.0}
        assert back.finished_at is not None and back.finished_at.tzinfo is not None


def test_sqlite_deletes_leave_no_readable_bytes(tmp_path: Path) -> None:
    """Deleted data is gone from the files on disk, not only from the tables."""
    folder = tmp_path / "state"
    store = SQLStore(f"sqlite:///{folder / 'algomancy.sqlite3'}")
    try:
        session = new_session(store)
        for key, marker in [("doomed", "SECRET-DATASET-MARKER"), ("kept", "KEPT-MARKER")]:
            frame = pd.DataFrame({"note": [marker] * 50})
            store.put_dataset(session.id, key, DataSource(key, tables={"t": frame}))
        other = new_session(store, "other")
        frame = pd.DataFrame({"note": ["SECRET-SESSION-MARKER"] * 50})
        store.put_dataset(other.id, "d", DataSource("d", tables={"t": frame}))
        store.delete_dataset(session.id, "doomed")
        store.delete_session(other.id)

        def on_disk() -> bytes:
            return b"".join(p.read_bytes() for p in folder.iterdir())

        assert b"KEPT-MARKER" in on_disk()
        assert b"SECRET-DATASET-MARKER" not in on_disk()
        assert b"SECRET-SESSION-MARKER" not in on_disk()
    finally:
        store.close()


def test_result_tables_belong_to_their_run(store: Store) -> None:
    session = new_session(store)
    record = new_scenario(store, session.id, "s")
    queue(store, record.id)
    store.apply_transition(record.id, CLAIM)
    tables = DataSource("r", tables={"lines": pd.DataFrame({"qty": [1, 2]})})
    store.put_result_tables(record.id, tables)
    store.apply_transition(record.id, COMPLETE)
    kept = store.get_result_tables(record.id)
    assert kept is not None and kept.get_table("lines")["qty"].tolist() == [1, 2]
    queue(store, record.id)  # a re-run drops the old run's tables
    assert store.get_result_tables(record.id) is None
    store.put_result_tables(record.id, tables)
    store.delete_scenario(session.id, record.id)
    assert store.get_result_tables(record.id) is None
    store.put_result_tables("nope", tables)  # no scenario, nothing kept
    assert store.get_result_tables("nope") is None


def test_a_scenario_needs_its_dataset_and_keeps_it(store: Store) -> None:
    session = new_session(store)
    record = ScenarioRecord(str(uuid.uuid4()), session.id, "t", "missing", "Instant", {})
    with pytest.raises(NotFoundError, match="dataset 'missing'"):
        store.add_scenario(record)
    store.put_dataset(session.id, "missing", small_dataset())
    store.add_scenario(record)
    with pytest.raises(ConflictError, match="used by scenario"):
        store.delete_dataset(session.id, "missing")
    # Replacing the dataset keeps the scenario's reference valid.
    store.put_dataset(session.id, "missing", small_dataset(qty=9), replace=True)
    assert store.list_datasets(session.id) == ["missing"]


def test_scenario_adds_and_dataset_deletes_in_threads_leave_nothing_dangling(
    store: Store,
) -> None:
    session = new_session(store)
    for round_ in range(10):
        key = f"k{round_}"
        store.put_dataset(session.id, key, small_dataset(key))
        start = threading.Barrier(5)

        def add(n: int, key: str = key, start: threading.Barrier = start) -> None:
            start.wait(timeout=30)
            record = ScenarioRecord(str(uuid.uuid4()), session.id, f"{key}-{n}", key, "A", {})
            with contextlib.suppress(NotFoundError):
                store.add_scenario(record)

        def delete(key: str = key, start: threading.Barrier = start) -> None:
            start.wait(timeout=30)
            with contextlib.suppress(ConflictError):
                store.delete_dataset(session.id, key)

        threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
        threads.insert(2, threading.Thread(target=delete))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    keys = set(store.list_datasets(session.id))
    assert [s.tag for s in store.list_scenarios(session.id) if s.dataset_key not in keys] == []


def test_sqlite_files_are_private_and_complete_after_close(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "state"
    store = SQLStore(f"sqlite:///{folder / 'algomancy.sqlite3'}", data_path=folder)
    try:
        session = new_session(store)
        new_scenario(store, session.id, "kept")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for path in folder.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        store.close()
    wal = folder / "algomancy.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy.sqlite3"
    copy.write_bytes((folder / "algomancy.sqlite3").read_bytes())
    reopened = SQLStore(f"sqlite:///{copy}")
    try:
        assert [s.tag for s in reopened.list_scenarios(session.id)] == ["kept"]
    finally:
        reopened.close()


def test_sessions_list_in_pages(store: Store) -> None:
    names = [new_session(store, f"s{i}").display_name for i in range(5)]
    assert [s.display_name for s in store.list_sessions(None)] == names
    assert [s.display_name for s in store.list_sessions(None, 2, 1)] == names[1:3]
    assert [s.display_name for s in store.list_sessions(None, None, 3)] == names[3:]
    assert store.list_sessions(None, 10, 5) == []
    assert store.list_session_names(None) == [
        (s.id, s.display_name) for s in store.list_sessions(None)
    ]


def test_session_names_of_one_owner_in_order(store: Store) -> None:
    assert store.list_session_names("nobody") == []
    names = ["plain", 'quote " and \\ backslash', "ünïcode ✓", "emoji 🚀"]
    for name in names:
        new_session(store, name, owner="u")
    new_session(store, "someone else's", owner="v")
    listed = store.list_session_names("u")
    assert listed == [(s.id, s.display_name) for s in store.list_sessions("u")]
    assert [name for _, name in listed] == names


def test_a_version_1_database_gets_the_queue_index(sql_url: str) -> None:
    from algomancy_core.stores.sql import schema as sql

    SQLStore(sql_url).close()
    engine = sa.create_engine(sql_url)
    with engine.begin() as conn:
        # version 1's indexes: status alone, none on the queue or the session list
        conn.execute(sa.text("DROP INDEX ix_scenarios_queue"))
        conn.execute(sa.text("DROP INDEX ix_sessions_owner_position"))
        conn.execute(sa.text("CREATE INDEX ix_scenarios_status ON scenarios (status)"))
        conn.execute(sa.text("UPDATE meta SET value = 1 WHERE name = 'schema_version'"))
    SQLStore(sql_url).close()
    with engine.connect() as conn:
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("scenarios")}
        indexes |= {i["name"] for i in sa.inspect(conn).get_indexes("sessions")}
        version = conn.execute(sa.text("SELECT value FROM meta WHERE name = 'schema_version'"))
        assert version.scalar_one() == sql.SCHEMA_VERSION
    engine.dispose()
    assert {"ix_scenarios_queue", "ix_sessions_owner_position"} <= indexes
    # version 2's queue index and version 1's status index gave way to version 6's
    assert not {"ix_scenarios_status_queue", "ix_scenarios_status"} & indexes


def test_a_version_3_database_gets_data_parameters(sql_url: str) -> None:
    store = SQLStore(sql_url)
    session = new_session(store)
    store.put_dataset(session.id, "d", DataSource("d"))
    store.add_scenario(ScenarioRecord(str(uuid.uuid4()), session.id, "t", "d", "A", {}))
    store.close()
    engine = sa.create_engine(sql_url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE scenarios DROP COLUMN data_parameters"))
        conn.execute(sa.text("UPDATE meta SET value = 3 WHERE name = 'schema_version'"))
    engine.dispose()
    reopened = SQLStore(sql_url)
    try:
        (record,) = reopened.list_scenarios(session.id)
        assert record.data_parameters == {}
    finally:
        reopened.close()


def test_a_version_10_database_gets_trace_contexts(sql_url: str) -> None:
    """Migration 11: the trace context a queued run keeps for whoever claims it."""
    store = SQLStore(sql_url)
    session = new_session(store)
    store.put_dataset(session.id, "d", DataSource("d"))
    store.add_scenario(ScenarioRecord(str(uuid.uuid4()), session.id, "t", "d", "A", {}))
    store.close()
    engine = sa.create_engine(sql_url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE scenarios DROP COLUMN trace_context"))
        conn.execute(sa.text("UPDATE meta SET value = 10 WHERE name = 'schema_version'"))
    engine.dispose()
    reopened = SQLStore(sql_url)
    try:
        (record,) = reopened.list_scenarios(session.id)
        assert record.trace_context is None
        carried = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
        queued = plan_transition(ScenarioStatus.QUEUED, trace_context=carried)
        assert reopened.apply_transition(record.id, queued) is not None
        claimed = reopened.claim_next(plan_claim("me", datetime.now(UTC) + timedelta(seconds=30)))
        assert claimed is not None and claimed.trace_context == carried
    finally:
        reopened.close()


def test_a_version_4_database_opens_and_lists_its_sessions(sql_url: str) -> None:
    """Migration 5 adds `sessions.list_entry` (and its index) for one layout
    everywhere; nothing reads it: the names come from the session rows."""
    store = SQLStore(sql_url)
    for name in ('say "hi"', "naïve \\ name", "plain"):
        new_session(store, name)
    expected = [(s.id, s.display_name) for s in store.list_sessions(None)]
    store.close()
    engine = sa.create_engine(sql_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_sessions_owner_list"))
        conn.execute(sa.text("ALTER TABLE sessions DROP COLUMN list_entry"))
        conn.execute(sa.text("UPDATE meta SET value = 4 WHERE name = 'schema_version'"))
    engine.dispose()
    reopened = SQLStore(sql_url)
    try:
        assert reopened.list_session_names(None) == expected
        renamed = reopened.rename_session(expected[0][0], "renamed")
        assert reopened.list_session_names(None)[0] == (renamed.id, "renamed")
    finally:
        reopened.close()
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("sessions")}
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("sessions")}
    engine.dispose()
    assert "list_entry" in columns and "ix_sessions_owner_list" in indexes


def test_a_version_6_database_gets_name_keys_and_keeps_colliding_names(sql_url: str) -> None:
    """Migration 7 on a database written by this code at version 6, holding names
    that collide once folded: every row stays, under its name; the oldest keeps the
    plain key; new look-alikes are refused from then on."""
    from algomancy_core.stores.sql import migrations
    from algomancy_core.stores.sql import schema as sql

    store = SQLStore(sql_url)
    first, second = new_session(store, "Week1"), new_session(store, "week-two")
    for key in ("d", "e"):
        store.put_dataset(first.id, key, small_dataset(key))
    new_scenario(store, first.id, "t1")
    new_scenario(store, first.id, "t2")
    store.close()
    engine = sa.create_engine(sql_url)
    with engine.begin() as conn:
        for table, index, column in (
            ("sessions", "uq_sessions_owner_name_key", "name_key"),
            ("datasets", "uq_datasets_session_name_key", "name_key"),
            ("scenarios", "uq_scenarios_session_tag_key", "tag_key"),
        ):
            conn.execute(sa.text(f"DROP INDEX {index}"))
            conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        # What version 6 let in: names equal once case and width are folded.
        conn.execute(
            sa.text("UPDATE sessions SET display_name = :n WHERE id = :i"),
            {"n": FULL_WIDTH_WEEK1, "i": second.id},
        )
        conn.execute(sa.text("UPDATE datasets SET key = 'D' WHERE key = 'e'"))
        # (This database has dataset versions already: their key goes with it.)
        conn.execute(sa.text("UPDATE dataset_versions SET key = 'D' WHERE key = 'e'"))
        conn.execute(sa.text("UPDATE scenarios SET tag = 'T1' WHERE tag = 't2'"))
        conn.execute(sa.text("UPDATE meta SET value = 6 WHERE name = 'schema_version'"))
    engine.dispose()
    reopened = SQLStore(sql_url)
    try:
        names = [s.display_name for s in reopened.list_sessions(None)]
        assert names == ["Week1", FULL_WIDTH_WEEK1]
        assert reopened.find_session(FULL_WIDTH_WEEK1, None) is not None
        assert reopened.list_datasets(first.id) == ["d", "D"]
        assert reopened.get_dataset(first.id, "D").name == "e"
        assert [r.tag for r in reopened.list_scenarios(first.id)] == ["t1", "T1"]
        with pytest.raises(ConflictError, match="'Week1' already exists"):
            new_session(reopened, "WEEK1")
        with pytest.raises(ConflictError, match="dataset 'd' already exists"):
            reopened.put_dataset(first.id, "\uff44", small_dataset())
        with pytest.raises(ConflictError, match="tagged 't1' already exists"):
            new_scenario(reopened, first.id, "\uff34\uff11")
        # The later collider can still be renamed, deleted, and its name reused.
        reopened.delete_session(second.id)
        assert new_session(reopened, "week-2").display_name == "week-2"
    finally:
        reopened.close()
    engine = sa.create_engine(sql_url)
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT value FROM meta WHERE name = 'schema_version'"))
        assert version.scalar_one() == sql.SCHEMA_VERSION
        keys = conn.execute(sa.text("SELECT key, name_key FROM datasets ORDER BY position"))
        assert [k for _, k in keys] == ["d", "d" + migrations.COLLISION_MARK + "D"]
    engine.dispose()


def test_a_scenario_pinned_to_a_version_is_added_only_while_the_version_exists(
    store: Store,
) -> None:
    """The dataset and its pinned version are checked in the add's own write (on SQL
    one statement): a missing version, dataset or session is a clear not-found."""
    session = new_session(store)
    store.put_dataset(session.id, "d", small_dataset("d"))

    def pinned(tag: str, version: int, dataset: str = "d", session_id: str = session.id) -> None:
        record = ScenarioRecord(
            id=str(uuid.uuid4()),
            session_id=session_id,
            tag=tag,
            dataset_key=dataset,
            algorithm="Instant",
            parameters={},
            created_at=T0,
            dataset_version=version,
        )
        store.add_scenario(record)

    pinned("on version 1", 1)
    assert [r.tag for r in store.list_scenarios(session.id)] == ["on version 1"]
    with pytest.raises(NotFoundError, match="'d' has no version 2"):
        pinned("on version 2", 2)
    with pytest.raises(NotFoundError, match="dataset 'other' not found"):
        pinned("on another dataset", 1, dataset="other")
    with pytest.raises(NotFoundError, match="session 'gone' not found"):
        pinned("in no session", 1, session_id="gone")
    assert [r.tag for r in store.list_scenarios(session.id)] == ["on version 1"]


def test_a_scenario_is_read_with_its_sessions_baseline(store: Store) -> None:
    """`get_scenario_and_baseline`: the scenario of that session (else None and None)
    and the session's pinned baseline, whichever scenario it is."""
    session, other = new_session(store, "s"), new_session(store, "o")
    first, second = new_scenario(store, session.id, "a"), new_scenario(store, session.id, "b")
    assert store.get_scenario_and_baseline(session.id, first.id) == (
        store.get_scenario(session.id, first.id),
        None,
    )
    store.set_baseline(session.id, second.id)
    found, baseline = store.get_scenario_and_baseline(session.id, first.id)
    assert (found, baseline) == (store.get_scenario(session.id, first.id), second.id)
    assert store.get_scenario_and_baseline(session.id, second.id)[1] == second.id
    assert store.get_scenario_and_baseline(other.id, first.id) == (None, None)
    assert store.get_scenario_and_baseline(session.id, "missing") == (None, None)


def test_a_scenario_pinned_as_the_latest_is_refused_once_it_is_not(store: Store) -> None:
    """`add_scenario(latest=True)`: stored only while its version, with its digest,
    is the dataset's latest; else `LatestMoved` and nothing stored."""
    session = new_session(store)
    first = store.put_dataset(session.id, "d", small_dataset("d", qty=1))
    second = store.put_dataset(session.id, "d", small_dataset("d", qty=2), replace=True)

    def pinned(tag: str, version: int, digest: str) -> ScenarioRecord:
        return scenario_record(session.id, tag, dataset_version=version, dataset_digest=digest)

    with pytest.raises(LatestMoved):
        store.add_scenario(pinned("older", first.version, first.digest), latest=True)
    with pytest.raises(LatestMoved):
        store.add_scenario(pinned("other digest", second.version, first.digest), latest=True)
    store.add_scenario(pinned("latest", second.version, second.digest), latest=True)
    # Not as the latest: any version kept.
    store.add_scenario(pinned("pinned", first.version, first.digest))
    assert [r.tag for r in store.list_scenarios(session.id)] == ["latest", "pinned"]
    assert store.latest_version_seen(session.id, "d") == store.dataset_version(session.id, "d")


def test_a_scenario_is_added_below_the_limit_only(store: Store) -> None:
    """`add_scenario(below=limit)` refuses a scenario in a session that holds `limit`
    already, exact whether the store counts (memory; SQLite when the table holds
    `limit` rows or more) or not (SQLite below that: its largest rowid bounds the
    rows); the refused one is not stored."""
    first, second = new_session(store, "first"), new_session(store, "second")
    for i in range(3):
        new_scenario(store, first.id, f"f{i}")
    for i in range(2):
        new_scenario(store, second.id, f"s{i}")

    def added(session_id: str, limit: int) -> bool:
        record = scenario_record(session_id, "probe")
        try:
            store.add_scenario(record, below=limit)
        except ConflictError as exc:
            assert f"a session may hold {limit} scenarios" in str(exc)
            return False
        store.delete_scenario(session_id, record.id)
        return True

    answers = {limit: (added(first.id, limit), added(second.id, limit)) for limit in (2, 3, 4, 6)}
    assert answers == {2: (False, False), 3: (False, True), 4: (True, True), 6: (True, True)}
    # Deleted rows leave the bound behind: still exact.
    store.delete_scenario(second.id, store.list_scenarios(second.id)[0].id)
    assert (added(second.id, 2), added(first.id, 3)) == (True, False)
    assert [len(store.list_scenarios(s.id)) for s in (first, second)] == [3, 1]
