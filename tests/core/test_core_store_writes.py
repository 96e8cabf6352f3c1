"""Merged writes are all-or-nothing: a completion's result tables, its move and its
change feed entry are one write (one transaction on SQL), on every store."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from algomancy_core.events import Notifier
from algomancy_core.lifecycle import Completion, Lifecycle
from algomancy_core.scenario import (
    ScenarioRecord,
    ScenarioStatus,
    plan_claim,
    plan_transition,
    utcnow,
)
from algomancy_core.stores import Store
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


def processing_many(store: Store, count: int) -> list[str]:  # noqa: F811
    """The ids of `count` new scenarios of one session, claimed (processing)."""
    session = new_session(store)
    new_scenario(store, session.id, "dataset")  # its dataset
    ids = []
    for n in range(count):
        record = ScenarioRecord(str(uuid.uuid4()), session.id, f"s{n}", "d", "Instant", {})
        store.add_scenario(dataclasses.replace(record, batch="experiment:e"))
        ids.append(queue(store, record.id).id)
    claimed = store.claim_many(plan_claim("me", utcnow() + timedelta(minutes=5)), count)
    assert sorted(r.id for r in claimed) == sorted(ids)
    return ids


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
@pytest.mark.parametrize("count", [1, 2])
def test_a_completion_failing_after_its_first_statements_writes_nothing(
    store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    count: int,
) -> None:
    """A completion's move, its change feed entry and its tables are one write: when
    its last statement (the `count`-th result tables' insert) fails, the move, the
    entry and the tables written before it roll back too (as a crash would); of
    several moves in one write (`apply_transitions`), the earlier ones too. (On
    SQLite the entry is written by the move's own UPDATE, `stores/sql/triggers.py`;
    on PostgreSQL it is the transaction's last statement.)"""
    ids = processing_many(store, count)
    bound = store.change_bounds()
    dialect = store.db.dialect  # type: ignore[attr-defined]
    real = dialect.transaction
    puts: list[None] = []

    @contextlib.contextmanager
    def last_fails(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with real(*args, **kwargs) as run:

            def run_or_fail(sql: str, params: tuple[Any, ...] = ()) -> Any:
                if sql.startswith("INSERT INTO result_tables"):
                    puts.append(None)
                    if len(puts) == count:
                        raise RuntimeError("disk gone")
                return run(sql, params)

            yield run_or_fail

    monkeypatch.setattr(dialect, "transaction", last_fails)
    with pytest.raises(RuntimeError, match="disk gone"):
        store.apply_transitions([(scenario_id, completing()) for scenario_id in ids])
    assert len(puts) == count
    monkeypatch.undo()
    for scenario_id in ids:
        record = store.get_scenario_by_id(scenario_id)
        assert record is not None and record.status is S.PROCESSING and record.result is None
        assert store.get_result_tables(scenario_id) is None
    assert store.change_bounds() == bound
    # Nothing half-done is left in the way: the completion goes through now.
    assert store.apply_transition(ids[0], completing()) is not None
    assert store.get_result_tables(ids[0]) is not None


def test_a_run_cancelled_while_completing_fails_without_tables(store: Store) -> None:  # noqa: F811
    """`Lifecycle.complete_many`: the cancel wins, and the run's tables are not kept."""
    lifecycle = Lifecycle(store, Notifier())
    scenario_id = processing(store)
    assert lifecycle.request_cancel(scenario_id)
    ended = lifecycle.complete_many([Completion(scenario_id, {"x": 1}, {}, TABLES, {})])[0]
    assert ended is not None and ended.status is S.FAILED
    assert store.get_result_tables(scenario_id) is None


def test_several_moves_apply_in_one_write_each_on_its_own_terms(store: Store) -> None:  # noqa: F811
    """`apply_transitions`: each move applies or not as `apply_transition` would
    (a cancel requested refuses a completion, a deleted scenario is None), in order."""
    done, cancelled, deleted, failing = processing_many(store, 4)
    assert store.request_cancel(cancelled)
    record = store.get_scenario_by_id(deleted)
    assert record is not None
    store.delete_scenario(record.session_id, deleted)
    failed = plan_transition(S.FAILED, source=S.PROCESSING, error="boom")
    written = store.apply_transitions(
        [
            (done, completing()),
            (cancelled, completing()),
            (deleted, completing()),
            (failing, failed),
        ]
    )
    assert [r.id if r else None for r in written] == [done, None, None, failing]
    assert written[0] is not None and written[0].status is S.COMPLETE
    assert written[3] is not None and written[3].error == "boom"
    assert store.get_result_tables(done) is not None
    assert store.get_result_tables(cancelled) is None
    still = store.get_scenario_by_id(cancelled)
    assert still is not None and still.status is S.PROCESSING
    assert store.apply_transitions([]) == []


class Published(Notifier):
    """A notifier that keeps the ids it was told of."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[str] = []

    def publish(self, scenario_id: str, record: ScenarioRecord | None = None) -> None:
        self.published.append(scenario_id)
        super().publish(scenario_id, record)


def test_runs_completed_together_fail_a_cancelled_one_as_cancelled(store: Store) -> None:  # noqa: F811
    """`Lifecycle.complete_many`: one write for all, the cancel among them wins (no
    tables), a scenario deleted meanwhile is None; each written move is announced
    (the notifier) and in the change feed."""
    notifier = Published()
    lifecycle = Lifecycle(store, notifier)
    done, cancelled, deleted = processing_many(store, 3)
    assert lifecycle.request_cancel(cancelled)
    record = store.get_scenario_by_id(deleted)
    assert record is not None
    store.delete_scenario(record.session_id, deleted)
    notifier.published.clear()
    seq = store.change_bounds()[1]
    ended = lifecycle.complete_many(
        [
            Completion(scenario_id, {"x": 1}, {}, TABLES, {})
            for scenario_id in (done, cancelled, deleted)
        ]
    )
    assert [r.status if r else None for r in ended] == [S.COMPLETE, S.FAILED, None]
    assert ended[1] is not None and ended[1].error == "cancelled"
    assert store.get_result_tables(done) is not None
    assert store.get_result_tables(cancelled) is None
    assert notifier.published == [done, cancelled]
    feed = [(c.subject, c.kind) for c in store.read_changes(seq, 10)]
    assert feed == [(done, "scenario.complete"), (cancelled, "scenario.failed")]
