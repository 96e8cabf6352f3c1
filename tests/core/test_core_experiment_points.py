"""Experiment points in rows of their own (schema version 16): the book keeps the
header apart from the points on the memory, SQLite and PostgreSQL stores, a page
reads only its points, and migration 16 moves the points of a version 15 database
into rows, the frame answering the same bytes as the version 15 code did."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from algomancy_core.experiments.book import ExperimentRecord
from algomancy_core.scenario import utcnow
from algomancy_core.stores import Store
from algomancy_core.stores.sql import SQLStore
from algomancy_core.stores.sql import schema as sql_schema
from tests.core.test_core_stores import (  # noqa: F401
    new_scenario,
    new_session,
    open_store,
    sql_url,
    store,
    store_url,
)
from tests.pg import postgres_server, postgres_url  # noqa: F401

DATA = Path(__file__).parent / "data"


def record(session_id: str, name: str = "sweep", size: int = 5) -> ExperimentRecord:
    return ExperimentRecord(
        id=f"e-{name}",
        session_id=session_id,
        name=name,
        created_at=utcnow(),
        base={"algo_name": "Instant", "dataset_key": "d"},
        design={"kind": "grid", "axes": [{"name": "count"}]},
        axes=["count", "run.seed"],
        points=[{"count": n, "run.seed": 10 * n} for n in range(size)],
        scenario_ids=[f"s{n}" for n in range(size)],
        reused=[2],
    )


def test_a_record_reads_back_whole_and_by_page(store: Store) -> None:  # noqa: F811
    session = new_session(store)
    kept = record(session.id, size=2500)  # more than one chunk of inserts
    store.experiments.add(kept)
    assert store.experiments.get(session.id, kept.id) == kept
    assert store.experiments.list(session.id) == [kept]
    page = store.experiments.page(session.id, kept.id, 1200, 3)
    assert page is not None
    assert (page.id, page.name, page.axes, page.size) == (kept.id, "sweep", kept.axes, 2500)
    assert [(p.index, p.number, p.scenario_id) for p in page.points] == [
        (1200, 1201, "s1200"),
        (1201, 1202, "s1201"),
        (1202, 1203, "s1202"),
    ]
    assert page.points[0].values == {"count": 1200, "run.seed": 12000}
    whole = store.experiments.page(session.id, kept.id, 0, None)
    assert whole is not None and [p.reused for p in whole.points[:3]] == [False, True, False]
    assert store.experiments.page(session.id, kept.id, 2500, 10).points == []  # type: ignore[union-attr]
    assert store.experiments.page(session.id, "nope", 0, 10) is None
    assert store.experiments.page("other", kept.id, 0, 10) is None


def test_an_update_renumbers_and_a_delete_removes_the_points(store: Store) -> None:  # noqa: F811
    session = new_session(store)
    first = record(session.id)
    store.experiments.add(first)
    dropped = dataclasses.replace(
        first,
        points=first.points[1:],
        scenario_ids=first.scenario_ids[1:],
        reused=[1],
        numbers=[2, 3, 4, 5],
        dropped=[1],
        cancelled=True,
    )
    store.experiments.update(dropped)
    assert store.experiments.get(session.id, first.id) == dropped
    page = store.experiments.page(session.id, first.id, 0, 2)
    assert page is not None and page.size == 4
    assert [(p.index, p.number, p.reused) for p in page.points] == [(0, 2, True), (1, 3, False)]
    other = record(session.id, "other", 3)
    store.experiments.add(other)
    store.experiments.delete(session.id, first.id)
    assert store.experiments.list(session.id) == [other]
    assert store.experiments.names(session.id) == {"other"}
    assert store.experiments.page(session.id, first.id, 0, 10) is None


def test_a_sql_page_reads_its_scenarios_status_and_kpis_with_it(sql_url: str) -> None:  # noqa: F811
    opened = SQLStore(sql_url)
    try:
        session, other = new_session(opened), new_session(opened, "other")
        mine = new_scenario(opened, session.id, "a")
        theirs = new_scenario(opened, other.id, "b")
        kept = dataclasses.replace(
            record(session.id, size=3), scenario_ids=[mine.id, theirs.id, "gone"]
        )
        opened.experiments.add(kept)
        page = opened.experiments.page(session.id, kept.id, 0, 10)
        assert page is not None and page.outcomes == {mine.id: ("created", {})}
    finally:
        opened.close()


def point_rows(url: str) -> int:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM experiment_points")).scalar_one())
    finally:
        engine.dispose()


def test_points_go_with_their_session(sql_url: str) -> None:  # noqa: F811
    opened = SQLStore(sql_url)
    try:
        session = new_session(opened)
        opened.experiments.add(record(session.id))
        assert point_rows(sql_url) == 5
        opened.delete_session(session.id)
        assert point_rows(sql_url) == 0
    finally:
        opened.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def version_15_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[str, dict[str, Any]]:
    """A database filled by the code of schema version 15 (`data/make_version_15.py`
    wrote the files), and what that code answered."""
    made: dict[str, Any] = json.loads((DATA / "version_15.json").read_text())[request.param]
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        dump = (DATA / "version_15.postgres.sql").read_text()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute(dump.encode())
        return url, made
    copy = tmp_path / "old.sqlite3"
    shutil.copyfile(DATA / "version_15.sqlite3", copy)
    return f"sqlite:///{copy}", made


def test_a_database_of_version_15_migrates_its_points_to_rows(
    version_15_database: tuple[str, dict[str, Any]],
) -> None:
    url, made = version_15_database
    assert made["schema"] == 15
    migrated = SQLStore(url)
    try:
        session = migrated.find_session("main", None)
        assert session is not None
        again = migrated.experiments.get(session.id, made["experiments"]["again"]["id"])
        assert again is not None
        assert again.scenario_ids == made["again_points"] and again.reused == made["again_reused"]
        rand = migrated.experiments.get(session.id, made["experiments"]["rand"]["id"])
        assert rand is not None and rand.dropped == [1] and rand.numbers == [2, 3, 4, 5, 6]
        assert [e.name for e in migrated.experiments.list(session.id)] == ["grid", "again", "rand"]
        with migrated.engine.connect() as conn:
            bodies = conn.execute(sa.select(sql_schema.experiments.c.body)).scalars().all()
        assert all("points" not in json.loads(body) for body in bodies)
    finally:
        migrated.close()
    assert point_rows(url) == 2 + 2 + 5
    migrated = SQLStore(url)  # opened again: nothing moves twice
    migrated.close()
    assert point_rows(url) == 9
