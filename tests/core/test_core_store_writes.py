"""Merged writes are all-or-nothing: a completion's result tables, its move and its
change feed entry are one write (one transaction on SQL), on every store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from algomancy_core.events import Notifier
from algomancy_core.lifecycle import Lifecycle
from algomancy_core.scenario import ScenarioStatus, plan_claim, plan_transition, utcnow
from algomancy_core.stores import Store
from algomancy_core.stores.sql import scenarios as sql_scenarios
from algomancy_data import DataSource
from tests.pg import postgres_server, postgres_url  # noqa: F401

from .test_core_stores import (  # noqa: F401 (fixtures)
    new_scenario,
    new_session,
    queue,
    store,
    store_url,
)

S = ScenarioStatus
TABLES = DataSource("r", tables={"lines": pd.DataFrame({"qty": [1, 2]})})


def completing(tables: DataSource | None = TABLES) -> Any:
    return plan_transition(S.COMPLETE, source=S.PROCESSING, result={"x": 1}, kpis={}, tables=tables)


def processing(store: Store) -> str:  # noqa: F811
    """The id of a new scenario, claimed (processing)."""
    session = new_session(store)
    record = new_scenario(store, session.id, "s")
    queue(store, record.id)
    claimed = store.claim_next(plan_claim("me", utcnow() + timedelta(minutes=5)))
    assert claimed is not None and claimed.id == record.id
    return record.id


def test_a_completion_keeps_its_tables_in_the_same_write(store: Store) -> None:  # noqa: F811
    scenario_id = processing(store)
    done = store.apply_transition(scenario_id, completing())
    assert done is not None and done.status is S.COMPLETE
    kept = store.get_result_tables(scenario_id)
    assert kept is not None and kept.get_table("lines")["qty"].tolist() == [1, 2]
    queue(store, scenario_id)  # a re-run drops them, as before
    assert store.get_result_tables(scenario_id) is None


def test_a_refused_completion_keeps_no_tables(store: Store) -> None:  # noqa: F811
    scenario_id = processing(store)
    assert store.request_cancel(scenario_id)
    assert store.apply_transition(scenario_id, completing()) is None
    assert store.get_result_tables(scenario_id) is None


def test_only_a_completion_carries_tables() -> None:
    with pytest.raises(ValueError, match="only a move to complete"):
        plan_transition(S.FAILED, source=S.PROCESSING, tables=TABLES)


@pytest.mark.parametrize(
    "store_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_completion_failing_after_its_first_statements_writes_nothing(
    store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The change feed entry is the transaction's last write: when it fails, the
    move and the tables written before it roll back too (as a crash would)."""
    scenario_id = processing(store)
    bound = store.change_bounds()

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(sql_scenarios, "append_scenario", broken)
    with pytest.raises(RuntimeError, match="disk gone"):
        store.apply_transition(scenario_id, completing())
    monkeypatch.undo()
    record = store.get_scenario_by_id(scenario_id)
    assert record is not None and record.status is S.PROCESSING and record.result is None
    assert store.get_result_tables(scenario_id) is None
    assert store.change_bounds() == bound
    # Nothing half-done is left in the way: the completion goes through now.
    assert store.apply_transition(scenario_id, completing()) is not None
    assert store.get_result_tables(scenario_id) is not None


def test_a_run_cancelled_while_completing_fails_without_tables(store: Store) -> None:  # noqa: F811
    """`Lifecycle.complete`: the cancel wins, and the run's tables are not kept."""
    lifecycle = Lifecycle(store, Notifier())
    scenario_id = processing(store)
    assert lifecycle.request_cancel(scenario_id)
    ended = lifecycle.complete(scenario_id, {"x": 1}, {}, TABLES)
    assert ended is not None and ended.status is S.FAILED
    assert store.get_result_tables(scenario_id) is None
