"""Quick runs that end together are recorded together: a slot reads every outcome
already waiting in its worker's pipe (`Slots._read_ended`), hands them on in one
call (`tell_done`, `DoneTogether`), and the dispatcher records them in one write
(`Dispatcher._on_done_many`), with the same outcomes as one at a time: a cancelled
run fails as cancelled, a scenario deleted meanwhile stays gone."""

from __future__ import annotations

import collections
import dataclasses
import types
from collections.abc import Sequence
from typing import Any

import pytest

from algomancy_core import ScenarioStatus, SessionManager
from algomancy_core.dispatcher.runs import Run
from algomancy_core.executors.base import DoneTogether, RunOutcome, RunRequest, tell_done
from algomancy_core.executors.process import ProcessExecutor, _Job, dump_outcome
from algomancy_core.result import BaseResult
from algomancy_core.scenario import Transition, plan_claim, plan_transition, utcnow

from .executor_algorithms import Marks, items
from .test_core_executors import Collector
from .test_core_process_jobs import PipeWorker

S = ScenarioStatus
OK = RunOutcome(result=BaseResult({"total": 6, "count": 1}))


def test_a_slot_reads_every_outcome_waiting_in_the_pipe_but_not_beyond() -> None:
    """Three runs ended (the second cancelled while it waited: reported already),
    the fourth sent progress only: the slot takes the first and third, and leaves
    the fourth running, its progress relayed."""
    executor = ProcessExecutor(max_workers=1)
    worker = PipeWorker(
        ("done", dump_outcome(OK)),
        ("done", dump_outcome(RunOutcome(cancelled=True))),
        ("done", dump_outcome(RunOutcome(error="ValueError: no"))),
        ("progress", 0.5, "half"),
    )
    collectors = [Collector() for _ in range(4)]
    jobs = []
    for n, collector in enumerate(collectors):
        job = _Job(executor, RunRequest(f"s{n}", Marks, {}, items()), *collector.callbacks())
        job.seq, job.state, job.worker = n, "running" if n == 0 else "sent", worker  # type: ignore[assignment]
        jobs.append(job)
    sent = collections.deque(jobs)
    jobs[1].cancel()  # waiting in the pipe: reported at once
    assert collectors[1].outcome().cancelled
    ended, healthy = executor._read_ended(worker, sent)  # type: ignore[arg-type]
    assert healthy
    assert [(job.request.scenario_id, outcome.ok, outcome.error) for job, outcome in ended] == [
        ("s0", True, None),
        ("s2", False, "ValueError: no"),
    ]
    assert list(sent) == [jobs[3]] and jobs[3].state == "running"
    assert collectors[3].progress == [(0.5, "half")]
    assert not collectors[0].finished.is_set()  # told by the loop, after its top-up


def test_outcomes_of_one_receiver_are_told_in_one_call_in_order() -> None:
    calls: list[Any] = []

    def many(ends: list[tuple[str, RunOutcome]]) -> None:
        calls.append([scenario_id for scenario_id, _ in ends])
        if "boom" in calls[-1]:
            raise RuntimeError("broken receiver")

    def plain(outcome: RunOutcome) -> None:
        calls.append(outcome.error)

    failed = RunOutcome(error="x")
    tell_done(
        [
            (DoneTogether("a", many), OK),
            (DoneTogether("b", many), OK),
            (plain, failed),
            (DoneTogether("boom", many), OK),
            (DoneTogether("c", lambda ends: calls.append(("other", len(ends)))), OK),
        ]
    )
    assert calls == [["a", "b"], "x", ["boom"], ("other", 1)]  # a failure stops no other


class Counting:
    """Wraps a store's `apply_transitions`: the moves of each call."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[list[str]] = []

    def __call__(self, moves: Sequence[tuple[str, Transition]]) -> Any:
        self.calls.append([scenario_id for scenario_id, _ in moves])
        return self.real(moves)


def test_the_dispatcher_records_runs_that_ended_together_in_one_write(
    sessions: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three points end together: one completes, one whose cancel was accepted
    meanwhile fails as cancelled, one deleted meanwhile stays gone; the three
    completions are one write."""
    dispatcher = sessions.runtime.dispatcher
    store = sessions.runtime.store
    main = sessions.create_session("together")
    records = [
        dataclasses.replace(
            main.create_scenario(f"p{n}", "Master data", "Instant"), batch="experiment:e"
        )
        for n in range(3)
    ]
    with store._lock:  # type: ignore[attr-defined]  # the dispatcher's poll claims nothing meanwhile
        for record in records:  # points of an experiment, queued
            store.delete_scenario(main.session_id, record.id)
            store.add_scenario(record)
            store.apply_transition(record.id, plan_transition(S.QUEUED))
        claimed = store.claim_many(plan_claim(dispatcher.owner, utcnow()), 3)
    assert [c.id for c in claimed] == [r.id for r in records]
    done, cancelled, deleted = (record.id for record in records)
    with dispatcher._lock:
        for record in claimed:
            dispatcher._runs[record.id] = Run(record)
    assert sessions.runtime.lifecycle.request_cancel(cancelled)
    store.delete_scenario(main.session_id, deleted)
    counting = Counting(store.apply_transitions)
    monkeypatch.setattr(store, "apply_transitions", counting)
    dispatcher._on_done_many([(done, OK), (cancelled, OK), (deleted, OK)])
    assert counting.calls[0] == [done, cancelled, deleted]  # one write for the three
    assert main.get_scenario(done).status is S.COMPLETE
    failed = main.get_scenario(cancelled)
    assert failed.status is S.FAILED and failed.error == "cancelled"
    assert store.get_scenario_by_id(deleted) is None
    assert dispatcher.running == []


def test_points_are_claimed_ahead_once_there_is_room_for_half_the_prefetch(
    sessions: SessionManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a free worker one claim (it may be a session's own scenario); beyond the
    capacity, nothing until half of `prefetch` is free, then all the room at once."""
    dispatcher = sessions.runtime.dispatcher
    monkeypatch.setattr(dispatcher, "executor", types.SimpleNamespace(capacity=2, prefetch=8))
    assert [dispatcher._wanted(held) for held in (0, 1, 2, 5, 6, 7, 9, 10)] == [
        1,
        1,
        8,
        5,
        4,
        0,
        0,
        0,
    ]
    monkeypatch.setattr(dispatcher, "executor", types.SimpleNamespace(capacity=2, prefetch=2))
    assert [dispatcher._wanted(held) for held in (1, 2, 3, 4)] == [1, 2, 1, 0]  # slow runs
