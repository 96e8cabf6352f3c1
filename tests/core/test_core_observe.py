"""Run observers (`algomancy_core.observe`) and the trace context a run carries."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from distributed import LocalCluster

from algomancy_core import ScenarioRecord, SessionManager
from algomancy_core.algorithm import RunContext
from algomancy_core.executors.base import Executor, RunOutcome, RunRequest, execute
from algomancy_core.executors.dask import DaskExecutor
from algomancy_core.executors.process import ProcessExecutor
from algomancy_core.observe import Observers, RunObserver, outcome_name
from algomancy_core.scenario import CANCELLED, INTERRUPTED, ScenarioStatus, plan_claim, utcnow
from tests.polling import wait_for

from .conftest import make_config
from .executor_algorithms import TraceEcho, items

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Recorder(RunObserver):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()

    def run_queued(self, record: ScenarioRecord) -> None:
        with self.lock:
            self.calls.append(("queued", record.tag, ""))

    def run_withdrawn(self, record: ScenarioRecord) -> None:
        with self.lock:
            self.calls.append(("withdrawn", record.tag, ""))

    def run_started(self, record: ScenarioRecord) -> Mapping[str, str] | None:
        with self.lock:
            self.calls.append(("started", record.tag, ""))
        return {"traceparent": TRACEPARENT}

    def run_ended(
        self, record: ScenarioRecord, outcome: str, seconds: float, executed: RunOutcome | None
    ) -> None:
        assert seconds >= 0
        with self.lock:
            self.calls.append(("ended", record.tag, outcome))


class Raising(RunObserver):
    def run_queued(self, record: ScenarioRecord) -> None:
        raise RuntimeError("observer broken")

    def run_started(self, record: ScenarioRecord) -> Mapping[str, str] | None:
        raise RuntimeError("observer broken")

    def run_ended(self, *args: Any) -> None:
        raise RuntimeError("observer broken")

    def run_settled(self, record: ScenarioRecord) -> None:
        raise RuntimeError("observer broken")


@pytest.fixture
def observed() -> Iterator[tuple[SessionManager, Recorder]]:
    manager = SessionManager(make_config())
    recorder = Recorder()
    manager.runtime.observers.add(Raising())  # a broken observer breaks nothing
    manager.runtime.observers.add(recorder)
    with manager:
        yield manager, recorder


def run(manager: SessionManager, tag: str, algorithm: str) -> ScenarioRecord:
    scenarios = manager.get_session("main")
    record = scenarios.create_scenario(tag, "Master data", algorithm)
    scenarios.run_scenario(record.id)
    return wait_for(
        lambda: scenarios.get_scenario(record.id),
        lambda r: r.status.is_terminal,
        what=f"{tag} to end",
    )


def test_observers_see_runs_queued_started_and_ended(
    observed: tuple[SessionManager, Recorder],
) -> None:
    manager, recorder = observed
    assert run(manager, "fine", "Instant").status is ScenarioStatus.COMPLETE
    assert run(manager, "broken", "Broken").status is ScenarioStatus.FAILED
    wait_for(lambda: len(recorder.calls) >= 6)
    assert recorder.calls == [
        ("queued", "fine", ""),
        ("started", "fine", ""),
        ("ended", "fine", "complete"),
        ("queued", "broken", ""),
        ("started", "broken", ""),
        ("ended", "broken", "failed"),
    ]


def test_a_run_cancelled_in_the_queue_is_withdrawn(
    observed: tuple[SessionManager, Recorder], gate: Any
) -> None:
    manager, recorder = observed
    scenarios = manager.get_session("main")
    held = scenarios.create_scenario("held", "Master data", "Gated")
    scenarios.run_scenario(held.id)
    assert gate.started.wait(30)
    waiting = scenarios.create_scenario("waiting", "Master data", "Instant")
    scenarios.run_scenario(waiting.id)
    scenarios.cancel_scenario(waiting.id)
    gate.release.set()
    wait_for(lambda: ("ended", "held", "complete") in recorder.calls)
    assert ("withdrawn", "waiting", "") in recorder.calls
    assert not any(call[0] == "started" and call[1] == "waiting" for call in recorder.calls)


class Settled(RunObserver):
    """Listens to settled runs only (as webhooks do)."""

    def __init__(self) -> None:
        self.records: list[tuple[str, ScenarioStatus]] = []
        self.lock = threading.Lock()

    def run_settled(self, record: ScenarioRecord) -> None:
        with self.lock:
            self.records.append((record.tag, record.status))


def test_each_settled_run_is_told_once_whatever_settled_it(
    observed: tuple[SessionManager, Recorder], gate: Any
) -> None:
    """The lifecycle's one listener list: a run that ends, fails, or is cancelled
    while queued is told to the observers (`run_settled`) once, as written."""
    manager, _ = observed
    settled = Settled()
    manager.runtime.observers.add(settled)
    run(manager, "fine", "Instant")
    run(manager, "broken", "Broken")
    scenarios = manager.get_session("main")
    held = scenarios.create_scenario("held", "Master data", "Gated")
    scenarios.run_scenario(held.id)
    assert gate.started.wait(30)
    waiting = scenarios.create_scenario("waiting", "Master data", "Instant")
    scenarios.run_scenario(waiting.id)
    scenarios.cancel_scenario(waiting.id)
    gate.release.set()
    wait_for(lambda: len(settled.records) >= 4, what="four settled runs")
    S = ScenarioStatus
    # Sorted: each is told from the thread that settled it.
    assert sorted(settled.records) == [
        ("broken", S.FAILED),
        ("fine", S.COMPLETE),
        ("held", S.COMPLETE),
        ("waiting", S.FAILED),
    ]


class QueueContext(RunObserver):
    """The tracer of the process that queues: its request's context."""

    def queue_context(self) -> Mapping[str, str] | None:
        return {"traceparent": TRACEPARENT}


def test_a_run_queued_by_one_manager_goes_on_in_the_trace_where_another_claims_it(
    tmp_path: Path,
) -> None:
    config = {"has_persistent_state": True, "data_path": str(tmp_path)}
    algorithms = {"algorithms": [TraceEcho], "kpis": []}
    # Never started: it queues, and no dispatcher of its own claims the run.
    queuing = SessionManager(make_config(**config, **algorithms))
    queuing.runtime.observers.add(QueueContext())
    try:
        scenarios = queuing.get_session("main")
        record = scenarios.create_scenario("traced", "Master data", "TraceEcho")
        queued = scenarios.run_scenario(record.id)
        assert queued.trace_context == {"traceparent": TRACEPARENT}
        with SessionManager(make_config(**config, **algorithms)) as claiming:
            ended = wait_for(
                lambda: claiming.get_session("main").get_scenario(record.id),
                lambda r: r.status.is_terminal,
                what="the run to end",
            )
    finally:
        queuing.close()
    assert ended.status is ScenarioStatus.COMPLETE, ended.error
    assert ended.result is not None
    # The request handed to the executor carried the queued context.
    assert ended.result["carried"] == {"traceparent": TRACEPARENT}


def test_an_interrupted_run_queued_again_keeps_its_trace_context() -> None:
    manager = SessionManager(make_config(requeue_interrupted=True))
    manager.runtime.observers.add(QueueContext())
    try:
        scenarios = manager.get_session("main")
        record = scenarios.create_scenario("lost", "Master data", "Instant")
        scenarios.run_scenario(record.id)
        # Claimed by a process that died: its lease ran out.
        gone = plan_claim("gone", utcnow() - timedelta(seconds=1))
        assert manager.runtime.store.claim_next(gone) is not None
        assert manager.runtime.dispatcher.reap() == [record.id]
        again = scenarios.get_scenario(record.id)
        assert again.status is ScenarioStatus.QUEUED
        assert again.trace_context == {"traceparent": TRACEPARENT}
    finally:
        manager.close()


def test_a_run_queued_without_a_tracer_stores_no_context(
    observed: tuple[SessionManager, Recorder],
) -> None:
    manager, _ = observed
    scenarios = manager.get_session("main")
    record = scenarios.create_scenario("plain", "Master data", "Instant")
    assert scenarios.run_scenario(record.id).trace_context is None


class Carrying(RunObserver):
    def __init__(self, context: dict[str, str] | None) -> None:
        self.context = context

    def run_started(self, record: ScenarioRecord) -> Mapping[str, str] | None:
        return self.context


def test_each_observer_is_told_in_order_a_failure_logged_and_the_last_context_wins(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = ScenarioRecord("s1", "main", "t", "Master data", "Instant", {})
    first, later = {"traceparent": "first"}, {"traceparent": "later"}
    observers = Observers([Carrying(first), Raising(), Carrying(None), Carrying(later)])
    with caplog.at_level(logging.ERROR, logger="algomancy.observe"):
        assert observers.run_started(record) == later
        assert Observers([Carrying(first), Carrying(None)]).run_started(record) == first
        assert Observers([Raising()]).run_started(record) is None
        observers.run_settled(record)  # Raising's failure is logged; nothing raised
    # Only this thread's: a dispatcher left by an earlier test may log to the same
    # logger meanwhile (its observers' failures).
    here = threading.get_ident()
    logged = [
        r.getMessage() for r in caplog.records if r.name == "algomancy.observe" and r.thread == here
    ]
    assert len(logged) == 3
    assert logged[0].endswith("failed on a started run")
    assert logged[2].endswith("failed on a settled run")


def test_outcome_names() -> None:
    failed = RunOutcome(error="boom")
    assert outcome_name(None, failed, None) == "cancelled"  # deleted or cancelled meanwhile
    assert outcome_name(CANCELLED, RunOutcome(cancelled=True), None) == "cancelled"
    assert outcome_name(INTERRUPTED, RunOutcome(cancelled=True), None) == "interrupted"
    assert outcome_name("timed out: the run took longer", failed, None) == "timed_out"


def test_execute_gives_the_trace_context_to_the_algorithm() -> None:
    carried = {"traceparent": TRACEPARENT}
    outcome = execute(RunRequest("s", TraceEcho, {}, items(), carried), RunContext())
    assert outcome.ok and outcome.result is not None
    assert outcome.result.values["carried"] == carried
    # Made current for OpenTelemetry: spans the algorithm makes join the trace.
    assert (
        outcome.result.values["current"]["traceparent"].split("-")[1] == TRACEPARENT.split("-")[1]
    )
    assert outcome.worker_span is not None
    start, end, where = outcome.worker_span
    assert start <= end and where.endswith(f":{os.getpid()}")
    untraced = execute(RunRequest("s", TraceEcho, {}, items()), RunContext())
    assert untraced.result is not None and untraced.result.values["carried"] is None
    assert untraced.worker_span is None


def carried_into(executor: Executor) -> RunOutcome:
    """The outcome of `TraceEcho` run on `executor` with a trace context."""
    done = threading.Event()
    outcomes: list[RunOutcome] = []

    def finished(outcome: RunOutcome) -> None:
        outcomes.append(outcome)
        done.set()

    try:
        request = RunRequest("s", TraceEcho, {}, items(), {"traceparent": TRACEPARENT})
        executor.submit(request, lambda p, m: None, finished)
        assert done.wait(60)
    finally:
        executor.shutdown()
    return outcomes[0]


@pytest.mark.slow  # a worker process, a Dask cluster
@pytest.mark.parametrize("kind", ["process", "dask"])
def test_the_trace_context_goes_into_a_worker(kind: str) -> None:
    if kind == "process":
        outcome = carried_into(ProcessExecutor(max_workers=1))
    else:
        with LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            outcome = carried_into(DaskExecutor(cluster.scheduler_address, max_workers=1))
    assert outcome.ok and outcome.result is not None, outcome.error
    assert outcome.result.values["carried"] == {"traceparent": TRACEPARENT}
    assert outcome.result.values["pid"] != os.getpid()
    assert outcome.worker_span is not None
    assert outcome.worker_span[2].endswith(f":{outcome.result.values['pid']}")
