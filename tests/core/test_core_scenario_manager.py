"""`ScenarioManager`: datasets, scenarios, runs, cancellation, failures."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from algomancy_core import (
    BaseKPI,
    BaseParameterSet,
    BaseResult,
    ConflictError,
    IntegerParameter,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
    ParameterError,
    RunContext,
    ScenarioStatus,
    SessionManager,
)
from algomancy_data import DataClassification, DataSource

from .conftest import Gate, Instant, make_config

S = ScenarioStatus


def test_run_to_completion_computes_result_and_kpis(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario("first", "Master data", "Instant", {"count": 7})
    assert record.status is S.CREATED and record.parameters == {"count": 7}
    queued = main.run_scenario(record.id)
    assert queued.status is S.QUEUED
    done = main.wait(record.id, timeout=10)
    assert done.status is S.COMPLETE
    assert done.result == {"total": 6, "count": 7}
    assert done.kpis == {"total": 6.0}
    assert done.progress == 1.0
    assert done.created_at <= done.started_at <= done.finished_at  # type: ignore[operator]


def test_rerun_clears_and_recomputes(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario("again", "Master data", "Instant")
    main.run_scenario(record.id)
    first = main.wait(record.id)
    rerun = main.run_scenario(record.id)
    assert rerun.status is S.QUEUED and rerun.result is None and rerun.kpis == {}
    second = main.wait(record.id)
    assert second.status is S.COMPLETE and second.finished_at > first.finished_at  # type: ignore[operator]


def test_create_checks_its_inputs(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    main.create_scenario("taken", "Master data", "Instant")
    with pytest.raises(ConflictError, match="taken"):
        main.create_scenario("taken", "Master data", "Instant")
    with pytest.raises(NotFoundError, match="algorithm 'Nope'"):
        main.create_scenario("x", "Master data", "Nope")
    with pytest.raises(NotFoundError, match="dataset 'nowhere'"):
        main.create_scenario("x", "nowhere", "Instant")
    with pytest.raises(ParameterError, match="count"):
        main.create_scenario("x", "Master data", "Instant", {"count": -1})
    with pytest.raises(InvalidInputError, match="tag"):
        main.create_scenario("   ", "Master data", "Instant")
    assert [s.tag for s in main.list_scenarios()] == ["taken"]


def test_a_deleted_scenarios_tag_is_free_and_a_look_alike_of_a_live_one_is_not(
    sessions: SessionManager,
) -> None:
    """The memory store checks a tag in its index of the session's tags: a delete
    frees the tag there, another session's tags are its own."""
    main, other = sessions.get_session("main"), sessions.create_session("other")
    gone = main.create_scenario("Plan A", "Master data", "Instant")
    other.create_scenario("plan a", "Master data", "Instant")
    with pytest.raises(ConflictError, match="Plan A"):
        main.create_scenario("PLAN \uff21", "Master data", "Instant")  # full-width A
    main.delete_scenario(gone.id)
    again = main.create_scenario("plan a", "Master data", "Instant")
    assert [s.id for s in main.list_scenarios()] == [again.id]
    with pytest.raises(ConflictError, match="plan a"):
        main.create_scenario("Plan A", "Master data", "Instant")


def test_running_twice_is_a_conflict(sessions: SessionManager, gate: Gate) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario("gated", "Master data", "Gated")
    main.run_scenario(record.id)
    with pytest.raises(InvalidTransitionError, match="already"):
        main.run_scenario(record.id)
    assert gate.started.wait(5)
    processing = main.processing()
    assert processing is not None and processing.id == record.id
    assert processing.progress == 0.5
    assert processing.progress_message == "waiting at the gate"
    gate.release.set()
    assert main.wait(record.id).status is S.COMPLETE
    assert main.processing() is None


def test_one_scenario_per_session_processes_fifo(sessions: SessionManager, gate: Gate) -> None:
    main = sessions.get_session("main")
    first = main.create_scenario("first", "Master data", "Gated")
    second = main.create_scenario("second", "Master data", "Instant")
    main.run_scenario(first.id)
    assert gate.started.wait(5)
    main.run_scenario(second.id)
    # The pool has a free thread, but the session already has a run.
    assert main.get_scenario(second.id).status is S.QUEUED
    gate.release.set()
    assert main.wait(second.id).status is S.COMPLETE
    assert main.get_scenario(first.id).finished_at <= main.get_scenario(second.id).started_at  # type: ignore[operator]


def test_sessions_run_in_parallel(sessions: SessionManager, gate: Gate) -> None:
    main = sessions.get_session("main")
    other = sessions.create_session("other")
    held = main.create_scenario("held", "Master data", "Gated")
    free = other.create_scenario("free", "Master data", "Instant")
    main.run_scenario(held.id)
    assert gate.started.wait(5)
    other.run_scenario(free.id)
    assert other.wait(free.id).status is S.COMPLETE
    assert main.get_scenario(held.id).status is S.PROCESSING
    gate.release.set()
    assert main.wait(held.id).status is S.COMPLETE


def test_cancel_a_queued_scenario(sessions: SessionManager, gate: Gate) -> None:
    main = sessions.get_session("main")
    blocker = main.create_scenario("blocker", "Master data", "Gated")
    waiting = main.create_scenario("waiting", "Master data", "Instant")
    main.run_scenario(blocker.id)
    assert gate.started.wait(5)
    main.run_scenario(waiting.id)
    cancelled = main.cancel_scenario(waiting.id)
    assert cancelled.status is S.FAILED and cancelled.error == "cancelled"
    gate.release.set()
    assert main.wait(blocker.id).status is S.COMPLETE
    assert main.get_scenario(waiting.id).status is S.FAILED


def test_cancel_a_running_scenario(sessions: SessionManager, gate: Gate) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario("running", "Master data", "Gated")
    main.run_scenario(record.id)
    assert gate.started.wait(5)
    main.cancel_scenario(record.id)
    failed = main.wait(record.id)
    assert failed.status is S.FAILED and failed.error == "cancelled" and failed.result is None


def test_a_cancel_accepted_before_the_result_is_written_wins(
    sessions: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run returned its result, then the cancel was accepted (the 202), then
    the completion is written: the scenario fails as cancelled, never completes."""
    main = sessions.get_session("main")
    lifecycle = sessions.runtime.lifecycle
    reached, go = threading.Event(), threading.Event()
    complete = lifecycle.complete_many

    def held_complete(*args: Any, **kwargs: Any) -> Any:
        reached.set()
        assert go.wait(5)
        return complete(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "complete_many", held_complete)
    record = main.create_scenario("late", "Master data", "Instant")
    main.run_scenario(record.id)
    assert reached.wait(5)
    accepted = main.cancel_scenario(record.id)
    assert accepted.status is S.PROCESSING and accepted.cancel_requested
    go.set()
    failed = main.wait(record.id)
    assert failed.status is S.FAILED and failed.error == "cancelled" and failed.result is None


def test_a_cancel_after_the_run_completed_is_a_conflict(
    sessions: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read as processing, but complete before the cancel is recorded: 409, and the
    scenario stays complete."""
    main = sessions.get_session("main")
    lifecycle = sessions.runtime.lifecycle
    reached, go, done = threading.Event(), threading.Event(), threading.Event()
    complete, request_cancel = lifecycle.complete_many, lifecycle.request_cancel

    def held_complete(*args: Any, **kwargs: Any) -> Any:
        reached.set()
        assert go.wait(5)
        try:
            return complete(*args, **kwargs)
        finally:
            done.set()

    def late_request_cancel(scenario_id: str) -> bool:
        go.set()
        assert done.wait(5)
        return request_cancel(scenario_id)

    monkeypatch.setattr(lifecycle, "complete_many", held_complete)
    monkeypatch.setattr(lifecycle, "request_cancel", late_request_cancel)
    record = main.create_scenario("early", "Master data", "Instant")
    main.run_scenario(record.id)
    assert reached.wait(5)
    with pytest.raises(ConflictError, match="is complete"):
        main.cancel_scenario(record.id)
    assert main.wait(record.id).status is S.COMPLETE


def test_cancel_of_an_idle_scenario_is_a_conflict(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario("idle", "Master data", "Instant")
    with pytest.raises(InvalidTransitionError, match="only queued or processing"):
        main.cancel_scenario(record.id)


def test_delete_a_running_scenario_cancels_it(sessions: SessionManager, gate: Gate) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario("doomed", "Master data", "Gated")
    main.run_scenario(record.id)
    assert gate.started.wait(5)
    main.delete_scenario(record.id)
    with pytest.raises(NotFoundError):
        main.get_scenario(record.id)
    # The session is free again: a new run completes.
    after = main.create_scenario("after", "Master data", "Instant")
    main.run_scenario(after.id)
    assert main.wait(after.id).status is S.COMPLETE


def test_a_failing_algorithm_fails_the_scenario(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario("broken", "Master data", "Broken")
    main.run_scenario(record.id)
    failed = main.wait(record.id)
    assert failed.status is S.FAILED
    assert failed.error == "RuntimeError: the solver diverged"
    assert failed.result is None and failed.kpis == {}


class Raising(BaseKPI):
    name = "raising"

    def compute(self, result: BaseResult) -> float:
        raise ZeroDivisionError("no items")


class Wordy(BaseKPI):
    name = "wordy"

    def compute(self, result: BaseResult) -> float:
        return "many"  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("kpi", "message"),
    [
        (Raising, "KPI 'raising' failed: ZeroDivisionError: no items"),
        (Wordy, "KPI 'wordy' returned str, not a number"),
    ],
)
def test_a_failing_kpi_fails_the_run(kpi: type[BaseKPI], message: str) -> None:
    with SessionManager(make_config(kpis=[kpi])) as sessions:
        main = sessions.get_session("main")
        record = main.create_scenario("k", "Master data", "Instant")
        main.run_scenario(record.id)
        failed = main.wait(record.id)
    assert failed.status is S.FAILED and failed.error == message


def test_datasets_derive_delete_and_json(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    derived = main.derive_dataset("Master data", "copy")
    assert derived.classification is DataClassification.DERIVED_DATA
    derived.get_table("items").loc[0, "qty"] = 100
    assert main.get_dataset("Master data").get_table("items")["qty"].tolist() == [1, 2, 3]
    with pytest.raises(ConflictError):
        main.derive_dataset("Master data", "copy")
    with pytest.raises(NotFoundError):
        main.derive_dataset("missing", "other")
    payload = DataSource("from json", tables={"t": pd.DataFrame({"a": [1]})}).to_json()
    assert main.add_dataset_from_json(payload) == "from json"
    with pytest.raises(ConflictError):
        main.add_dataset_from_json(payload)
    with pytest.raises(InvalidInputError):
        main.add_dataset_from_json(b"{not json")
    assert main.list_datasets() == ["Master data", "copy", "from json"]
    main.create_scenario("uses copy", "copy", "Instant")
    with pytest.raises(ConflictError, match="uses copy"):
        main.delete_dataset("copy")
    main.delete_dataset("from json")
    assert main.list_datasets() == ["Master data", "copy"]


def test_autocreate_and_autorun(gate: Gate) -> None:
    with SessionManager(make_config(autocreate=True, autorun=True)) as sessions:
        main = sessions.get_session("main")
        main.derive_dataset("Master data", "d2")
        created = {s.tag: s for s in main.list_scenarios()}
        assert set(created) == {"Instant on d2", "Gated on d2", "Broken on d2"}
        assert main.wait(created["Instant on d2"].id).status is S.COMPLETE
        main.cancel_scenario(created["Gated on d2"].id)  # it waits at a closed gate
        assert main.wait(created["Gated on d2"].id).error == "cancelled"
        assert main.wait(created["Broken on d2"].id).status is S.FAILED


class Tabled(Instant):
    """A result with a table: one line per item."""

    name = "Tabled"

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        items = data.get_table("items")
        lines = pd.DataFrame({"line": range(len(items)), "qty": items["qty"] * self.params.count})
        return BaseResult({"total": 6, "lines": len(lines)}, tables={"lines": lines})


@pytest.mark.parametrize("persistent", [False, True])
def test_result_tables(persistent: bool, tmp_path: Path) -> None:
    config = make_config(
        algorithms=[Tabled, Instant], has_persistent_state=persistent, data_path=str(tmp_path)
    )
    with SessionManager(config) as sessions:
        main = sessions.get_session("main")
        record = main.create_scenario("t", "Master data", "Tabled", {"count": 2})
        with pytest.raises(ConflictError, match="not complete"):
            main.result_tables(record.id)
        main.run_scenario(record.id)
        main.wait(record.id)
        tables = main.result_tables(record.id)
        assert tables.get_table("lines")["qty"].tolist() == [2, 4, 6]
        assert main.get_scenario(record.id).result == {
            "total": 6,
            "lines": 3,
            "tables": {"lines": 3},
        }
        copy = sessions.copy_session("main", "copy")
        copied = copy.list_scenarios()[0]
        assert copy.result_tables(copied.id).get_table("lines")["qty"].tolist() == [2, 4, 6]
        plain = main.create_scenario("plain", "Master data", "Instant")
        main.run_scenario(plain.id)
        main.wait(plain.id)
        assert main.result_tables(plain.id).list_tables() == []
        main.delete_scenario(record.id)
        assert sessions.runtime.store.get_result_tables(record.id) is None
        assert copy.result_tables(copied.id).list_tables() == ["lines"]


class StrictParameters(BaseParameterSet):
    """`CountParameters` after a deploy: a smaller bound and a new required parameter."""

    count = IntegerParameter(default=1, min=0, max=2)
    level = IntegerParameter(min=1)


class StrictInstant(Instant):
    parameters = StrictParameters


def test_stale_scenarios_stay_readable_and_refuse_to_run(tmp_path: Path) -> None:
    """Stored parameters are never re-validated on read; a scenario they no longer fit
    says why (every parameter named) and running it is a conflict."""
    state = {"has_persistent_state": True, "data_path": str(tmp_path)}
    with SessionManager(make_config(**state)) as sessions:
        created = sessions.get_session("main").create_scenario(
            "t", "Master data", "Instant", {"count": 5}
        )
    with SessionManager(make_config(algorithms=[StrictInstant], **state)) as sessions:
        main = sessions.get_session("main")
        (record,) = main.list_scenarios()
        assert record.parameters == {"count": 5}
        assert main.get_scenario(created.id).parameters == {"count": 5}
        reason = main.stale_reason(record)
        assert reason == (
            "parameters no longer fit: count: must be an integer between 0 and 2, got 5; "
            "level: is required and has no stored value"
        )
        with pytest.raises(ConflictError, match="cannot run: parameters no longer fit: count"):
            main.run_scenario(record.id)
        assert main.get_scenario(record.id).status is ScenarioStatus.CREATED
