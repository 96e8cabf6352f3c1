"""`Store.add_scenarios`: many scenarios in one transaction on the memory, SQLite and
PostgreSQL stores, stored and announced as `add_scenario` one at a time would, all
or nothing; and an experiment, which creates its points through it by chunks,
leaves nothing behind when a chunk fails."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest

from algomancy_core import ConflictError, NotFoundError, ScenarioStatus, SessionManager
from algomancy_core.experiments import queueing
from algomancy_core.experiments.service import create_experiment
from algomancy_core.scenario import ScenarioRecord, plan_claim
from algomancy_core.stores import Store
from algomancy_core.stores.sql import changes as sql_changes
from algomancy_core.stores.sql.batches import IDS_AT_ONCE
from algomancy_core.stores.sql.transaction import ROWS_A_STATEMENT
from tests.core.conftest import make_config
from tests.core.test_core_stores import (  # noqa: F401
    T0,
    new_scenario,
    new_session,
    open_store,
    small_dataset,
    sql_url,
    store,
    store_url,
)
from tests.pg import postgres_server, postgres_url  # noqa: F401

S = ScenarioStatus


def planned(session_id: str, tag: str, *, status: S = S.QUEUED, **fields: Any) -> ScenarioRecord:
    return ScenarioRecord(
        id=str(uuid.uuid4()),
        session_id=session_id,
        tag=tag,
        dataset_key="d",
        algorithm="Instant",
        parameters={"count": len(tag), "names": ["a", tag], "nested": {"x": None}},
        status=status,
        created_at=T0,
        queued_at=T0 if status is S.QUEUED else None,
        dataset_version=1,
        seed=7,
        lineage={"algorithm": {"name": "Instant"}},
        fingerprint=f"f-{tag}",
        trace_context={"traceparent": "00-x"},
        batch="experiment:e1" if status is S.QUEUED else None,
        **fields,
    )


def with_dataset(store: Store, name: str = "main") -> str:  # noqa: F811
    session = new_session(store, name)
    store.put_dataset(session.id, "d", small_dataset("d"))
    return session.id


def feed(store: Store, session_id: str) -> list[tuple[str, str, dict[str, Any]]]:  # noqa: F811
    """The session's changes: kind, subject and payload (the session id left out)."""
    return [(c.kind, c.subject, c.payload) for c in store.read_changes(0, 100_000, session_id)]


def test_a_batch_is_stored_and_fed_as_one_at_a_time(store: Store) -> None:  # noqa: F811
    one, many = with_dataset(store, "one"), with_dataset(store, "many")
    tags = ["a", "b", "c", "d"]
    made = [planned(many, t, status=S.CREATED if t == "c" else S.QUEUED) for t in tags]
    twins = {r.id: dataclasses.replace(r, id=str(uuid.uuid4()), session_id=one) for r in made}
    for record in twins.values():
        store.add_scenario(record)
    store.add_scenarios(made)
    assert store.list_scenarios(many) == made
    assert store.list_scenarios(one) == list(twins.values())
    found = store.get_scenarios(many, [r.id for r in made])
    assert sorted(found, key=lambda r: r.tag) == made
    if store.records_scenario_changes:
        got = feed(store, many)
        assert [(k, s) for k, s, _ in got] == [("scenario.created", r.id) for r in made]
        alike = [
            (k, twins[s].id, p | {"scenario": p["scenario"] | {"id": twins[s].id}})
            for k, s, p in got
        ]
        assert alike == feed(store, one)
        assert [p["scenario"]["status"] for _, _, p in got] == [
            "queued",
            "queued",
            "created",
            "queued",
        ]
    with pytest.raises(ConflictError, match="'B'"):  # in the tag index
        store.add_scenario(planned(many, "B"))


def test_a_batch_longer_than_a_statement_keeps_its_order(store: Store) -> None:  # noqa: F811
    session_id = with_dataset(store)
    made = [planned(session_id, f"p-{n}") for n in range(ROWS_A_STATEMENT * 2 + 7)]
    store.add_scenarios(made)
    store.add_scenario(later := planned(session_id, "later"))
    assert [r.id for r in store.list_scenarios(session_id)] == [r.id for r in made] + [later.id]
    assert store.count_scenarios(session_id) == len(made) + 1
    if store.records_scenario_changes:
        assert [s for _, s, _ in feed(store, session_id)] == [r.id for r in made] + [later.id]
    # In the run queue, in order: claimed oldest first.
    claimed = [store.claim_next(plan_claim("w", T0)) for _ in range(3)]
    assert [r.id for r in claimed if r is not None] == [r.id for r in made[:3]]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda r, session_id: dataclasses.replace(r, tag="taken"),  # a stored scenario's tag
        lambda r, session_id: dataclasses.replace(r, tag="P-0"),  # an earlier record's
        lambda r, session_id: dataclasses.replace(r, dataset_version=9),  # no such version
        lambda r, session_id: dataclasses.replace(r, dataset_key="nope"),  # no such dataset
    ],
    ids=["taken-tag", "tag-of-the-batch", "missing-version", "missing-dataset"],
)
def test_a_batch_with_one_bad_record_stores_nothing(
    store: Store,  # noqa: F811
    spoil: Any,
) -> None:
    session_id = with_dataset(store)
    store.add_scenario(planned(session_id, "taken"))
    before = (store.list_scenarios(session_id), feed(store, session_id))
    made = [planned(session_id, f"p-{n}") for n in range(6)]
    made[4] = spoil(made[4], session_id)
    with pytest.raises((ConflictError, NotFoundError)) as caught:
        store.add_scenarios(made)
    if isinstance(caught.value, ConflictError):
        assert repr(made[4].tag) in str(caught.value)
    assert (store.list_scenarios(session_id), feed(store, session_id)) == before
    assert store.count_by_status(session_id)[S.QUEUED] == 1
    store.add_scenarios(made[:4])  # the good ones go in once the bad one is gone
    assert store.count_scenarios(session_id) == 5


KINDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def experiment_manager(request: pytest.FixtureRequest, tmp_path: Any, kind: str) -> SessionManager:
    url = {
        "memory": {},
        "sqlite": {"database_url": f"sqlite:///{tmp_path / 'a.sqlite3'}"},
    }.get(kind) or {"database_url": request.getfixturevalue("postgres_url")}
    return SessionManager(make_config(max_workers=1, **url))


@pytest.mark.parametrize("kind", KINDS)
def test_an_experiment_whose_later_chunk_fails_leaves_nothing(
    request: pytest.FixtureRequest, tmp_path: Any, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queueing, "CHUNK", 3)
    base = {"algo_name": "Instant", "dataset_key": "Master data"}
    design = {"kind": "grid", "axes": [{"name": "count", "values": list(range(8))}]}
    with experiment_manager(request, tmp_path, kind) as sessions:
        main = sessions.get_session("main")
        store = main._store
        real = store.add_scenarios
        calls: list[int] = []

        def third_fails(records: list[ScenarioRecord]) -> None:
            calls.append(len(records))
            if len(calls) == 3:
                raise ConflictError("the third chunk fails")
            real(records)

        monkeypatch.setattr(store, "add_scenarios", third_fails)
        with pytest.raises(ConflictError, match="third chunk"):
            create_experiment(main, "sweep", base, design, 100)
        assert calls == [3, 3, 2]
        assert main.list_scenarios() == []
        assert store.experiments.list(main.session_id) == []
        monkeypatch.setattr(store, "add_scenarios", real)
        made = create_experiment(main, "sweep", base, design, 100)  # the tags are free
        assert len(set(made.scenario_ids)) == 8
        assert [s.tag for s in main.list_scenarios()] == [f"sweep-{n}" for n in range(1, 9)]


def test_statuses_by_id_read_only_the_sessions_own(store: Store) -> None:  # noqa: F811
    session_id, other = with_dataset(store), with_dataset(store, "other")
    made = [planned(session_id, f"p-{n}") for n in range(IDS_AT_ONCE + 3)]
    made[1] = dataclasses.replace(made[1], status=S.CREATED, queued_at=None, batch=None)
    store.add_scenarios(made)
    elsewhere = planned(other, "x")
    store.add_scenario(elsewhere)
    ids = [r.id for r in made] + [elsewhere.id, "missing"]
    statuses = store.scenario_statuses(session_id, ids)
    assert statuses == {r.id: r.status for r in made}
    assert statuses[made[1].id] is S.CREATED and statuses[made[0].id] is S.QUEUED


@pytest.mark.parametrize("kind", KINDS)
def test_an_experiment_made_by_batches_is_what_one_at_a_time_made(
    request: pytest.FixtureRequest, tmp_path: Any, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same design in two sessions, one through `add_scenarios`, one with each
    record added alone: the same scenarios and the same `scenario.created` feed."""
    monkeypatch.setattr(queueing, "CHUNK", 4)
    base = {"algo_name": "Instant", "dataset_key": "Master data"}
    design = {"kind": "grid", "axes": [{"name": "count", "values": list(range(10))}]}
    with experiment_manager(request, tmp_path, kind) as sessions:
        made = {}
        for name in ("batched", "alone"):
            manager = sessions.create_session(name)
            store = manager._store
            if name == "alone":  # the store both sessions share, from now on

                def alone(records: list[ScenarioRecord], store: Store = store) -> None:
                    for record in records:
                        store.add_scenario(record)

                monkeypatch.setattr(store, "add_scenarios", alone)
            made[name] = (manager, create_experiment(manager, "sweep", base, design, 100))
        views = []
        for manager, record in made.values():
            by_id = {s.id: s for s in manager.list_scenarios()}
            scenarios = [by_id[i] for i in record.scenario_ids]
            views.append(
                [(s.tag, s.parameters, s.seed, s.fingerprint, s.dataset_version) for s in scenarios]
            )
            created = [
                (c.subject, c.payload["scenario"]["tag"], c.payload["scenario"]["status"])
                for c in manager._store.read_changes(0, 10_000, manager.session_id)
                if c.kind == "scenario.created"
            ]
            assert created == [(s.id, s.tag, "queued") for s in scenarios]
        assert views[0] == views[1]
        assert [t for t, *_ in views[0]] == [f"sweep-{n}" for n in range(1, 11)]


def test_a_batch_prunes_the_feed_as_its_appends_would(
    sql_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sql_changes, "CHANGES_KEPT", 100)
    opened = open_store(sql_url)
    try:
        session_id = with_dataset(opened)
        opened.add_scenarios([planned(session_id, f"p-{n}") for n in range(300)])
        oldest, latest = opened.change_bounds()
    finally:
        opened.close()
    assert latest >= 300 and (oldest, latest - oldest + 1) == (latest - 99, 100)
