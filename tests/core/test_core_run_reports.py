"""Intermediate values (`ctx.report(value, step)`): checked in the algorithm, carried
from every executor to the store, kept with the scenario's latest run (bounded), and
pruned runs (`request_prune`): stopped through the cancel, failed as pruned."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from algomancy_core import (
    InvalidTransitionError,
    RunCancelledError,
    RunContext,
    ScenarioManager,
    ScenarioStatus,
    SessionManager,
)
from algomancy_core.observe import RunObserver
from algomancy_core.reports import REPORTS_KEPT, thin
from algomancy_core.scenario import plan_transition
from algomancy_core.stores import Store
from algomancy_core.stores.sql import SQLStore
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import wait_for

from .conftest import Gate, Gated, make_config
from .report_algorithms import Descending, Reporter, value_at
from .test_core_stores import (  # noqa: F401
    CLAIM,
    COMPLETE,
    new_scenario,
    new_session,
    queue,
    sql_url,
    store,
    store_url,
)

S = ScenarioStatus


# -- the algorithm's side: RunContext.report ---------------------------------------------


def test_a_report_hands_step_and_value_over() -> None:
    got: list[tuple[int, float]] = []
    ctx = RunContext(on_report=lambda step, value: got.append((step, value)))
    ctx.report(3, 0)
    ctx.report(np.float32(2.5), np.int64(4))
    ctx.report(-1e300, 10**12)
    assert got == [(0, 3.0), (4, 2.5), (10**12, -1e300)]
    assert all(type(s) is int and type(v) is float for s, v in got)
    assert ctx.last_step == 10**12


@pytest.mark.parametrize(
    ("value", "step", "message"),
    [
        (math.nan, 0, "value must be finite, got nan"),
        (math.inf, 0, "value must be finite, got inf"),
        (-math.inf, 0, "value must be finite"),
        ("1.5", 0, "value must be a real number, got '1.5'"),
        (None, 0, "value must be a real number, got None"),
        (True, 0, "value must be a real number, got True"),
        (1.0, -1, "step must be 0 or more, got -1"),
        (1.0, 1.5, "step must be an integer, got 1.5"),
        (1.0, "2", "step must be an integer, got '2'"),
        (1.0, True, "step must be an integer, got True"),
        (1.0, None, "step must be an integer, got None"),
    ],
)
def test_a_bad_report_raises_a_clear_value_error(value: Any, step: Any, message: str) -> None:
    got: list[tuple[int, float]] = []
    ctx = RunContext(on_report=lambda s, v: got.append((s, v)))
    with pytest.raises(ValueError, match=message):
        ctx.report(value, step)
    assert got == []


def test_steps_must_increase() -> None:
    ctx = RunContext()
    ctx.report(1.0, 5)
    for step in (5, 4):
        with pytest.raises(ValueError, match=f"step {step} comes after step 5"):
            ctx.report(1.0, step)
    ctx.report(1.0, 6)


def test_a_cancelled_run_stops_at_its_next_report() -> None:
    ctx = RunContext()
    ctx.cancel()
    with pytest.raises(RunCancelledError):
        ctx.report(1.0, 0)


# -- the bound -----------------------------------------------------------------------------


def test_thinning_keeps_the_first_and_the_latest_in_order() -> None:
    reports = [(step, float(step)) for step in range(25)]
    kept = thin(reports, 10)
    assert len(kept) <= 10
    assert kept[0] == (0, 0.0) and kept[-1] == (24, 24.0)
    assert kept == sorted(kept) and set(kept) <= set(reports)
    assert thin(reports[:10], 10) == reports[:10]
    with pytest.raises(ValueError, match="at least two"):
        thin(reports, 1)


# -- the stores ----------------------------------------------------------------------------


def running(store: Store) -> str:  # noqa: F811
    session = new_session(store)
    record = new_scenario(store, session.id, "t")
    queue(store, record.id)
    claimed = store.claim_next(CLAIM)
    assert claimed is not None and claimed.id == record.id
    return record.id


def test_reports_are_kept_in_order_while_processing_only(store: Store) -> None:  # noqa: F811
    session = new_session(store, "other")
    waiting = new_scenario(store, session.id, "waiting")
    assert not store.add_reports(waiting.id, [(0, 1.0)])
    assert not store.add_reports("no-such-scenario", [(0, 1.0)])
    scenario_id = running(store)
    assert store.get_reports(scenario_id) == []
    assert store.add_reports(scenario_id, [(0, 3.5), (1, 2.25)])
    assert store.add_reports(scenario_id, [(7, -1.0)])
    assert store.get_reports(scenario_id) == [(0, 3.5), (1, 2.25), (7, -1.0)]
    assert store.get_reports(waiting.id) == [] and store.get_reports("no-such") == []
    assert store.apply_transition(scenario_id, COMPLETE) is not None
    # Kept with the finished run; nothing more is added to it.
    assert not store.add_reports(scenario_id, [(8, 0.0)])
    assert store.get_reports(scenario_id) == [(0, 3.5), (1, 2.25), (7, -1.0)]


@pytest.mark.parametrize("target", [S.QUEUED, S.CREATED])
def test_a_rerun_or_a_reset_drops_the_reports(store: Store, target: S) -> None:  # noqa: F811
    scenario_id = running(store)
    store.add_reports(scenario_id, [(0, 1.0)])
    assert store.apply_transition(scenario_id, COMPLETE) is not None
    assert store.apply_transition(scenario_id, plan_transition(target)) is not None
    assert store.get_reports(scenario_id) == []


def test_a_run_keeps_at_most_the_bound(store: Store) -> None:  # noqa: F811
    scenario_id = running(store)
    batch = 1000
    for start in range(0, REPORTS_KEPT + 3 * batch, batch):
        store.add_reports(scenario_id, [(s, float(s)) for s in range(start, start + batch)])
    kept = store.get_reports(scenario_id)
    last = REPORTS_KEPT + 3 * batch - 1
    assert len(kept) <= REPORTS_KEPT
    assert kept[0] == (0, 0.0) and kept[-1] == (last, float(last))
    assert [s for s, _ in kept] == sorted({s for s, _ in kept})


def test_a_cancel_request_writes_the_fields_given(store: Store) -> None:  # noqa: F811
    scenario_id = running(store)
    assert store.request_cancel(scenario_id, pruned=True, error="pruned at step 4")
    record = store.get_scenario_by_id(scenario_id)
    assert record is not None
    assert (record.cancel_requested, record.pruned, record.error) == (
        True,
        True,
        "pruned at step 4",
    )


def test_a_version_12_database_gets_reports_and_pruned(sql_url: str) -> None:  # noqa: F811
    """Migration 15: the columns of a run's reports and of a pruned run."""
    first = SQLStore(sql_url)
    session = new_session(first)
    record = new_scenario(first, session.id, "t")
    first.close()
    engine = sa.create_engine(sql_url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE scenarios DROP COLUMN reports"))
        conn.execute(sa.text("ALTER TABLE scenarios DROP COLUMN pruned"))
        conn.execute(sa.text("UPDATE meta SET value = 12 WHERE name = 'schema_version'"))
    engine.dispose()
    reopened = SQLStore(sql_url)
    try:
        (found,) = reopened.list_scenarios(session.id)
        assert found.pruned is False
        queue(reopened, record.id)
        assert reopened.claim_next(CLAIM) is not None
        assert reopened.add_reports(record.id, [(1, 2.0)])
        assert reopened.get_reports(record.id) == [(1, 2.0)]
    finally:
        reopened.close()


# -- runs: reports travel from the executor to the store ------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionManager]:
    """A thread executor over a memory store (each report written at once) or a
    SQLite store (reports batched by the dispatcher)."""
    options: dict[str, Any] = {"algorithms": [Reporter, Descending, Gated]}
    if request.param == "sqlite":
        options |= {"has_persistent_state": True, "data_path": str(tmp_path)}
    with SessionManager(make_config(**options)) as manager:
        yield manager


def run(main: ScenarioManager, tag: str, algorithm: str, **params: Any) -> str:
    record = main.create_scenario(tag, "Master data", algorithm, params)
    main.run_scenario(record.id)
    return record.id


def test_every_report_of_a_run_is_kept(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    scenario_id = run(main, "r", "Reporter", steps=300)
    assert main.wait(scenario_id).status is S.COMPLETE
    assert main.reports(scenario_id) == [(step, value_at(step)) for step in range(300)]


@pytest.mark.parametrize(
    ("last", "error"),
    [
        ("nan", "ValueError: a report's value must be finite, got nan"),
        ("same_step", "ValueError: a report's step must increase: step 2 comes after step 2"),
        ("text", "ValueError: a report's value must be a real number, got '1.5'"),
    ],
)
def test_a_bad_report_fails_the_run_saying_why(
    sessions: SessionManager, last: str, error: str
) -> None:
    main = sessions.get_session("main")
    scenario_id = run(main, "bad", "Reporter", steps=3, last=last)
    done = main.wait(scenario_id)
    assert (done.status, done.error) == (S.FAILED, error)
    # The good reports before it stay.
    assert main.reports(scenario_id) == [(step, value_at(step)) for step in range(3)]


def test_a_rerun_and_a_reset_start_without_the_previous_reports(
    sessions: SessionManager,
) -> None:
    main = sessions.get_session("main")
    scenario_id = run(main, "r", "Reporter", steps=4)
    main.wait(scenario_id)
    assert len(main.reports(scenario_id)) == 4
    main.reset_scenario(scenario_id)
    assert main.reports(scenario_id) == []
    for _ in range(2):  # the second run's reports only, not the first's as well
        main.run_scenario(scenario_id)
        assert main.wait(scenario_id).status is S.COMPLETE
    assert main.reports(scenario_id) == [(step, value_at(step)) for step in range(4)]


# -- pruned runs ------------------------------------------------------------------------------


def test_a_pruned_run_fails_as_cancelled_and_marked_pruned(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    scenario_id = run(main, "d", "Descending")
    reported = wait_for(lambda: main.reports(scenario_id), lambda r: len(r) >= 3)
    step = reported[-1][0]
    flagged = main.request_prune(scenario_id, step)
    assert flagged.pruned and flagged.cancel_requested
    done = main.wait(scenario_id, timeout=60)
    assert done.status is S.FAILED and done.pruned
    assert done.error == done.progress_message == f"pruned at step {step}"
    # Its reports up to the prune are kept.
    assert main.reports(scenario_id)[: len(reported)] == reported
    # A run again starts unpruned.
    main.run_scenario(scenario_id)
    again = main.get_scenario(scenario_id)
    assert not again.pruned and again.error is None
    main.cancel_scenario(scenario_id)
    assert main.wait(scenario_id, timeout=60).error == "cancelled"


def test_only_a_processing_scenario_can_be_pruned(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario("idle", "Master data", "Reporter", {})
    with pytest.raises(InvalidTransitionError, match="only a processing scenario"):
        main.request_prune(record.id, 1)
    assert not main.get_scenario(record.id).pruned


def test_a_prune_accepted_before_the_result_wins(sessions: SessionManager, gate: Gate) -> None:
    """The prune is recorded but the run finishes before it is stopped: it fails as
    pruned, not complete (as a cancel wins)."""
    main = sessions.get_session("main")
    scenario_id = run(main, "g", "Gated")
    assert gate.started.wait(30)
    # Flagged in the store only, as when another process asks (its dispatcher never
    # hears of it), then the run ends at once.
    assert sessions.runtime.lifecycle.request_prune(scenario_id, 7)
    gate.release.set()
    done = main.wait(scenario_id, timeout=60)
    assert (done.status, done.error, done.pruned) == (S.FAILED, "pruned at step 7", True)


def test_a_prune_asked_for_by_another_process_stops_the_run(tmp_path: Path, gate: Gate) -> None:
    """On a shared store the runner learns of the prune from the store (lease
    renewal), stops the run and fails it as pruned."""
    config = make_config(algorithms=[Gated], has_persistent_state=True, data_path=str(tmp_path))
    with SessionManager(config) as sessions:
        main = sessions.get_session("main")
        scenario_id = run(main, "g", "Gated")
        assert gate.started.wait(30)
        assert sessions.runtime.lifecycle.request_prune(scenario_id, 3)
        done = main.wait(scenario_id, timeout=60)  # the gate stays shut: the prune stops it
    assert (done.status, done.error, done.pruned) == (S.FAILED, "pruned at step 3", True)
    assert done.progress_message == "pruned at step 3"


# -- the process executor ------------------------------------------------------------------------


@pytest.fixture
def process_sessions() -> Iterator[SessionManager]:
    config = make_config(algorithms=[Reporter, Descending], executor="process", max_workers=1)
    with SessionManager(config) as manager:
        yield manager


@pytest.mark.slow
def test_reports_and_prunes_travel_from_a_worker_process(
    process_sessions: SessionManager,
) -> None:
    main = process_sessions.get_session("main")
    scenario_id = run(main, "r", "Reporter", steps=2000)
    assert main.wait(scenario_id, timeout=120).status is S.COMPLETE
    assert main.reports(scenario_id) == [(step, value_at(step)) for step in range(2000)]
    pruned_id = run(main, "d", "Descending")
    reported = wait_for(lambda: main.reports(pruned_id), lambda r: len(r) >= 3)
    main.request_prune(pruned_id, reported[-1][0])
    done = main.wait(pruned_id, timeout=120)
    assert done.status is S.FAILED and done.pruned
    assert done.error == f"pruned at step {reported[-1][0]}"


def test_report_listeners_hear_each_batch(sessions: SessionManager) -> None:
    heard: list[tuple[str, list[tuple[int, float]]]] = []
    lock = threading.Lock()

    class Listener(RunObserver):
        def run_reported(self, scenario_id: str, reports: list[tuple[int, float]]) -> None:
            with lock:
                heard.append((scenario_id, list(reports)))

    sessions.runtime.observers.add(Listener())
    main = sessions.get_session("main")
    scenario_id = run(main, "r", "Reporter", steps=50)
    main.wait(scenario_id)
    with lock:
        assert {sid for sid, _ in heard} == {scenario_id}
        assert [r for _, batch in heard for r in batch] == main.reports(scenario_id)
