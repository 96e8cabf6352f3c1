"""The lifecycle: every status change planned, applied, cleaned up and announced in
one place, and records that cannot be changed behind the store's back."""

from __future__ import annotations

import ast
import dataclasses
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from algomancy_core.events import Notifier
from algomancy_core.lifecycle import Completion, Lifecycle
from algomancy_core.scenario import (
    ScenarioRecord,
    ScenarioStatus,
    new_id,
    plan_copy,
    utcnow,
)
from algomancy_core.stores import MemoryStore, SessionRecord
from algomancy_data import DataSource

S = ScenarioStatus
CORE = Path(__file__).resolve().parents[2] / "algomancy_core"


def lifecycle_with_scenario() -> tuple[Lifecycle, ScenarioRecord, list[str]]:
    store = MemoryStore()
    store.create_session(SessionRecord("s1", "main", utcnow()))
    store.put_dataset("s1", "d", DataSource("d"))
    record = ScenarioRecord(new_id(), "s1", "t", "d", "A", {"n": 1})
    store.add_scenario(record)
    woken: list[str] = []
    lifecycle = Lifecycle(store, Notifier(), on_queued=lambda record: woken.append(record.id))
    return lifecycle, record, woken


def test_a_move_is_applied_announced_and_wakes_the_dispatcher_when_queued() -> None:
    lifecycle, record, woken = lifecycle_with_scenario()
    queued = lifecycle.move(record.id, S.QUEUED)
    assert queued is not None and queued.status is S.QUEUED
    assert woken == [record.id]
    assert lifecycle.notifier.history(record.id, 0)[-1]["status"] == "queued"
    # A move from the wrong state changes nothing and announces nothing.
    assert lifecycle.move(record.id, S.COMPLETE, source=S.PROCESSING) is None
    assert lifecycle.store.get_scenario(record.session_id, record.id) == queued
    assert woken == [record.id]


def test_a_claim_is_stamped_with_the_time_it_wins() -> None:
    lifecycle, record, _ = lifecycle_with_scenario()
    lifecycle.move(record.id, S.QUEUED)
    before = utcnow()
    claimed = lifecycle.claim("me", before + timedelta(seconds=30))
    assert claimed is not None and claimed.status is S.PROCESSING
    assert claimed.lease_owner == "me"
    assert claimed.started_at is not None and claimed.started_at >= before


def test_a_new_run_drops_the_previous_runs_tables() -> None:
    lifecycle, record, _ = lifecycle_with_scenario()
    lifecycle.move(record.id, S.QUEUED)
    lifecycle.claim("me", utcnow() + timedelta(seconds=30))
    tables = DataSource("r", tables={"out": pd.DataFrame({"a": [1]})})
    done = lifecycle.complete_many([Completion(record.id, {"x": 1}, {"k": 1.0}, tables, {})])[0]
    assert done is not None and done.status is S.COMPLETE
    assert lifecycle.store.get_result_tables(record.id) is not None
    lifecycle.move(record.id, S.QUEUED)
    assert lifecycle.store.get_result_tables(record.id) is None


@pytest.mark.parametrize("status", list(ScenarioStatus))
def test_a_copy_of_a_pending_run_starts_over(status: ScenarioStatus) -> None:
    record = ScenarioRecord(
        new_id(), "s1", "t", "d", "A", {}, status=status, version=7, lease_owner="w"
    )
    copied = plan_copy(record, "new", "s2")
    assert (copied.id, copied.session_id, copied.version, copied.lease_owner) == (
        "new",
        "s2",
        0,
        None,
    )
    assert copied.status is (S.CREATED if status.is_active else status)


def test_records_handed_out_are_frozen() -> None:
    lifecycle, record, _ = lifecycle_with_scenario()
    handed_out = lifecycle.store.get_scenario(record.session_id, record.id)
    assert handed_out is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        handed_out.status = S.COMPLETE  # type: ignore[misc]
    stored = lifecycle.store.get_scenario(record.session_id, record.id)
    assert stored is not None and stored.status is S.CREATED


def test_only_the_lifecycle_changes_a_scenarios_status() -> None:
    """Outside the stores (which implement them), only lifecycle.py calls the
    store's status-changing methods."""
    changing = {"apply_transition", "apply_transitions", "claim_next", "claim_many"}
    offenders = []
    for path in CORE.rglob("*.py"):
        if path.name == "lifecycle.py" or "stores" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in changing:
                offenders.append(f"{path.name}:{node.lineno} {node.attr}")
    assert offenders == []
