"""The state machine: every transition, legal and illegal, through a store."""

from __future__ import annotations

import itertools

import pytest

from algomancy_core.errors import ConflictError, InvalidTransitionError
from algomancy_core.scenario import (
    TRANSITIONS,
    ScenarioRecord,
    ScenarioStatus,
    new_id,
    plan_claim,
    plan_transition,
    utcnow,
)
from algomancy_core.stores import MemoryStore, SessionRecord
from algomancy_data import DataSource

S = ScenarioStatus
LEGAL = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
ALL_PAIRS = list(itertools.product(ScenarioStatus, ScenarioStatus))


def store_with(status: ScenarioStatus) -> tuple[MemoryStore, ScenarioRecord]:
    store = MemoryStore()
    store.create_session(SessionRecord("s1", "main", utcnow()))
    store.put_dataset("s1", "d", DataSource("d"))
    record = ScenarioRecord(new_id(), "s1", "t", "d", "A", {}, status=status)
    store.add_scenario(record)
    return store, record


def test_wire_values_are_lower_case() -> None:
    assert [s.value for s in ScenarioStatus] == [
        "created",
        "queued",
        "processing",
        "complete",
        "failed",
    ]


def test_the_table_is_the_seed_state_machine_plus_reset() -> None:
    """The seed's machine, plus the reference's reset of a finished run (-> created)."""
    assert {
        (S.CREATED, S.QUEUED),
        (S.QUEUED, S.PROCESSING),
        (S.QUEUED, S.FAILED),
        (S.PROCESSING, S.COMPLETE),
        (S.PROCESSING, S.FAILED),
        (S.COMPLETE, S.QUEUED),
        (S.FAILED, S.QUEUED),
        (S.COMPLETE, S.CREATED),
        (S.FAILED, S.CREATED),
    } == LEGAL


def test_reset_clears_the_run() -> None:
    store, record = store_with(S.COMPLETE)
    reset = store.apply_transition(record.id, plan_transition(S.CREATED))
    assert reset is not None
    assert (reset.status, reset.progress, reset.result, reset.kpis, reset.error) == (
        S.CREATED,
        0.0,
        None,
        {},
        None,
    )
    assert (reset.queued_at, reset.started_at, reset.finished_at) == (None, None, None)


@pytest.mark.parametrize(("source", "target"), ALL_PAIRS)
def test_store_applies_exactly_the_legal_transitions(
    source: ScenarioStatus, target: ScenarioStatus
) -> None:
    store, record = store_with(source)
    updated = store.apply_transition(record.id, plan_transition(target))
    if (source, target) in LEGAL:
        assert updated is not None
        assert updated.status is target
        assert updated.version == record.version + 1
    else:
        assert updated is None
        current = store.get_scenario(record.session_id, record.id)
        assert current is not None and current.status is source


@pytest.mark.parametrize(("source", "target"), [p for p in ALL_PAIRS if p not in LEGAL])
def test_planning_an_illegal_transition_raises(
    source: ScenarioStatus, target: ScenarioStatus
) -> None:
    with pytest.raises(InvalidTransitionError, match="no transition"):
        plan_transition(target, source=source)


def test_an_invalid_transition_is_a_conflict_and_still_a_value_error() -> None:
    """409 at the HTTP edge (a `ConflictError`); code that caught the `ValueError`
    `plan_transition` raised before still catches it."""
    assert issubclass(InvalidTransitionError, ConflictError)
    assert issubclass(InvalidTransitionError, ValueError)


def test_requeue_clears_the_previous_run() -> None:
    store, record = store_with(S.COMPLETE)
    store.apply_transition(record.id, plan_transition(S.QUEUED))  # reset fields
    done = store.apply_transition(record.id, plan_transition(S.PROCESSING))
    assert done is not None
    done = store.apply_transition(
        record.id, plan_transition(S.COMPLETE, result={"x": 1}, kpis={"k": 2.0})
    )
    assert done is not None and done.result == {"x": 1} and done.progress == 1.0
    assert done.finished_at is not None and done.started_at is not None
    again = store.apply_transition(record.id, plan_transition(S.QUEUED))
    assert again is not None
    assert (again.result, again.kpis, again.progress, again.error) == (None, {}, 0.0, None)
    assert again.started_at is None and again.finished_at is None


def test_failure_keeps_the_error_and_drops_the_result() -> None:
    store, record = store_with(S.PROCESSING)
    failed = store.apply_transition(record.id, plan_transition(S.FAILED, error="boom"))
    assert failed is not None
    assert failed.error == "boom" and failed.result is None and failed.finished_at is not None


def test_claims_respect_fifo_and_one_processing_per_session() -> None:
    store = MemoryStore()
    store.create_session(SessionRecord("a", "a", utcnow()))
    store.create_session(SessionRecord("b", "b", utcnow()))
    store.put_dataset("a", "d", DataSource("d"))
    store.put_dataset("b", "d", DataSource("d"))
    ids = []
    for session, tag in [("a", "a1"), ("a", "a2"), ("b", "b1")]:
        record = ScenarioRecord(new_id(), session, tag, "d", "A", {})
        store.add_scenario(record)
        store.apply_transition(record.id, plan_transition(S.QUEUED))
        ids.append(record.id)
    first = store.claim_next(plan_claim("me", utcnow()))
    second = store.claim_next(plan_claim("me", utcnow()))
    assert first is not None and first.tag == "a1" and first.lease_owner == "me"
    assert second is not None and second.tag == "b1"  # a2 waits for a1
    assert store.claim_next(plan_claim("me", utcnow())) is None
    store.apply_transition(ids[0], plan_transition(S.COMPLETE))
    third = store.claim_next(plan_claim("me", utcnow()))
    assert third is not None and third.tag == "a2"
