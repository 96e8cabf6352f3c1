"""The study books (memory, SQLite): unique trial numbers and scenarios, the driver's
lease, and the migration that adds the tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.scenario import new_id, utcnow
from algomancy_core.stores.base import SessionRecord, Store
from algomancy_core.stores.sql import SQLStore
from algomancy_core.stores.sql import schema as sql_schema
from algomancy_core.studies.book import (
    ASKED,
    COMPLETE,
    T_RUNNING,
    StudyRecord,
    TrialRecord,
)
from tests.core.test_core_stores import open_store, store_url  # noqa: F401 (fixtures)
from tests.pg import postgres_server, postgres_url  # noqa: F401


@pytest.fixture
def store(store_url: str | None) -> Iterator[Store]:  # noqa: F811
    made = open_store(store_url)
    made.create_session(SessionRecord("s1", "one", utcnow()))
    yield made
    made.close()


def study(name: str = "st") -> StudyRecord:
    return StudyRecord(new_id(), "s1", name, utcnow(), spec={"n_trials": 3})


def trial(study_id: str, number: int, scenario_id: str | None) -> TrialRecord:
    return TrialRecord(study_id, number, T_RUNNING, ASKED, {"x": 1.0}, scenario_id)


def test_trial_numbers_and_scenarios_are_unique_in_a_study(store: Store) -> None:
    record = study()
    store.studies.add(record, [trial(record.id, 0, "a")])
    store.studies.add_trial(trial(record.id, 1, "b"))
    store.studies.add_trial(trial(record.id, 2, None))
    store.studies.add_trial(trial(record.id, 3, None))  # no scenario yet: allowed twice
    with pytest.raises(ConflictError):
        store.studies.add_trial(trial(record.id, 1, "c"))  # number taken
    with pytest.raises(ConflictError):
        store.studies.add_trial(trial(record.id, 4, "a"))  # scenario taken
    with pytest.raises(ConflictError):
        store.studies.update_trial(trial(record.id, 2, "b"))
    store.studies.update_trial(
        dataclasses.replace(trial(record.id, 2, "c"), state=COMPLETE, values=[1.5])
    )
    got = store.studies.trials(record.id)
    assert [(t.number, t.scenario_id) for t in got] == [(0, "a"), (1, "b"), (2, "c"), (3, None)]
    assert got[2].values == [1.5] and got[2].state == COMPLETE
    with pytest.raises(ConflictError):
        store.studies.add(study("st"), [])  # name taken in the session


def test_the_lease_goes_to_one_owner_until_it_expires(store: Store) -> None:
    record = study()
    store.studies.add(record, [])
    now = utcnow()
    assert store.studies.claim(record.id, "A", now, now + timedelta(seconds=5))
    assert not store.studies.claim(record.id, "B", now, now + timedelta(seconds=5))
    assert store.studies.claim(record.id, "A", now, now + timedelta(seconds=5))  # renewal
    later = now + timedelta(seconds=6)
    assert store.studies.claim(record.id, "B", later, later + timedelta(seconds=5))
    # A lost the lease: its writes are refused.
    assert not store.studies.save(dataclasses.replace(record, state=COMPLETE), "A")
    assert store.studies.save(dataclasses.replace(record, state=COMPLETE, ended_by="trials"), "B")
    found = store.studies.get("s1", record.id)
    assert found is not None and found.state == COMPLETE and found.ended_by == "trials"
    assert store.studies.running() == []
    store.studies.release(record.id, "B")
    assert not store.studies.claim(record.id, "C", later, later)  # not running any more


def test_delete_takes_the_trials_and_the_session_takes_the_studies(store: Store) -> None:
    first, second = study("one"), study("two")
    store.studies.add(first, [trial(first.id, 0, "a")])
    store.studies.add(second, [trial(second.id, 0, "a")])  # another study: same scenario ok
    store.studies.delete("s1", first.id)
    assert store.studies.trials(first.id) == []
    with pytest.raises(NotFoundError):
        store.studies.delete("s1", first.id)
    store.delete_session("s1")
    assert store.studies.list("s1") == []
    assert store.studies.trials(second.id) == []


def test_a_version_12_database_gains_the_study_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        sql_schema.metadata.create_all(conn)
        conn.execute(sa.text("DROP TABLE study_trials"))
        conn.execute(sa.text("DROP TABLE studies"))
        conn.execute(sa.insert(sql_schema.meta).values(name="schema_version", value=12))
        conn.execute(sa.insert(sql_schema.meta).values(name="position", value=0))
    engine.dispose()
    store = SQLStore(url)
    try:
        store.create_session(SessionRecord("s1", "one", utcnow()))
        record = study()
        store.studies.add(record, [trial(record.id, 0, "a")])
        assert [t.number for t in store.studies.trials(record.id)] == [0]
        with store.engine.connect() as conn:
            version = conn.execute(
                sa.select(sql_schema.meta.c.value).where(sql_schema.meta.c.name == "schema_version")
            ).scalar_one()
        assert version == sql_schema.SCHEMA_VERSION
    finally:
        store.close()
