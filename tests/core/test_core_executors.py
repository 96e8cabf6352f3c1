"""The process and Dask executors, driven through the `Executor` protocol."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from distributed import Client, LocalCluster

from algomancy_core import CoreConfig, ScenarioStatus, SessionManager
from algomancy_core.algorithm import BaseAlgorithm
from algomancy_core.executors.base import Executor, RunHandle, RunOutcome, RunRequest
from algomancy_core.executors.dask import DaskExecutor
from algomancy_core.executors.process import ProcessExecutor
from tests.polling import wait_for

from .executor_algorithms import (
    CountResult,
    Crashes,
    Niceness,
    Raises,
    Rows,
    Sleeper,
    Spin,
    items,
)

#: Process pools and a Dask cluster: real worker processes.
pytestmark = pytest.mark.slow

WAIT = 30.0  # a guard against hanging, not a timing assertion


class Collector:
    """Callbacks for one run, collecting what the executor reports."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.progress: list[tuple[float, str | None]] = []
        self.outcomes: list[RunOutcome] = []
        self.started = threading.Event()
        self.finished = threading.Event()

    def on_progress(self, progress: float, message: str | None) -> None:
        with self._lock:
            self.progress.append((progress, message))
        self.started.set()

    def on_done(self, outcome: RunOutcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)
        self.finished.set()

    def callbacks(self) -> tuple[Any, Any]:
        """`on_progress` and `on_done`, for `submit`."""
        return self.on_progress, self.on_done

    def outcome(self) -> RunOutcome:
        assert self.finished.wait(WAIT), "the run did not finish"
        with self._lock:
            assert len(self.outcomes) == 1
            return self.outcomes[0]

    def wait_started(self) -> None:
        assert self.started.wait(WAIT), "the run reported no progress"


def submit(
    executor: Executor, algorithm: type[BaseAlgorithm], **parameters: Any
) -> tuple[RunHandle, Collector]:
    collector = Collector()
    request = RunRequest(f"s-{algorithm.__name__}", algorithm, parameters, items())
    handle = executor.submit(request, collector.on_progress, collector.on_done)
    return handle, collector


def worker_processes() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "algomancy-worker"]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


@pytest.fixture
def process_executor() -> Iterator[ProcessExecutor]:
    executor = ProcessExecutor(max_workers=2)
    yield executor
    executor.shutdown()


@pytest.fixture
def dask_executor(cluster: LocalCluster) -> Iterator[DaskExecutor]:
    executor = DaskExecutor(cluster.scheduler_address, max_workers=2)
    yield executor
    executor.shutdown()


@pytest.fixture(params=["process", "dask"])
def executor(request: pytest.FixtureRequest) -> Executor:
    name = "process_executor" if request.param == "process" else "dask_executor"
    result: Executor = request.getfixturevalue(name)
    return result


# -- both executors ---------------------------------------------------------------------


def test_a_run_completes_with_its_result_and_ordered_progress(executor: Executor) -> None:
    handle, run = submit(executor, Sleeper, duration=0.3)
    outcome = run.outcome()
    assert outcome.ok and handle.done()
    assert isinstance(outcome.result, CountResult)  # its own class, pickled intact
    assert outcome.result.values["slept"] == 0.3 and outcome.result.rows == 3
    values = [p for p, _ in run.progress]
    assert len(values) >= 2 and values == sorted(values)
    assert all(0.0 <= p <= 1.0 for p in values)
    assert run.progress[-1] == (1.0, "awake")


def test_an_error_in_the_algorithm_is_an_error_outcome(executor: Executor) -> None:
    _, run = submit(executor, Raises)
    outcome = run.outcome()
    assert not outcome.ok and not outcome.cancelled
    assert outcome.error == "ValueError: the solver diverged on purpose"
    assert outcome.traceback is not None and "diverged on purpose" in outcome.traceback


def test_cancel_while_running_then_the_next_run_still_runs(executor: Executor) -> None:
    handle, run = submit(executor, Sleeper, duration=60)
    run.wait_started()
    handle.cancel()
    handle.cancel()  # twice is harmless
    assert run.outcome() == RunOutcome(cancelled=True)
    assert handle.done()
    after = [submit(executor, Spin)[1] for _ in range(executor.capacity)]  # every slot
    assert all(run.outcome().ok for run in after)


def test_cancel_before_start_never_runs(executor: Executor) -> None:
    busy = [submit(executor, Sleeper, duration=60) for _ in range(executor.capacity)]
    for _, run in busy:
        run.wait_started()
    waiting, waiting_run = submit(executor, Spin)  # beyond capacity: it waits
    waiting.cancel()
    assert waiting_run.outcome() == RunOutcome(cancelled=True)
    assert waiting_run.progress == []
    for handle, run in busy:
        handle.cancel()
        assert run.outcome().cancelled


def test_two_cpu_bound_runs_on_two_workers_complete(executor: Executor) -> None:
    runs = [submit(executor, Spin, iterations=2_000_000, report_every=100_000) for _ in range(2)]
    for _, run in runs:
        outcome = run.outcome()
        assert outcome.ok and outcome.result is not None
        assert outcome.result.values["iterations"] == 2_000_000


# -- the process executor -----------------------------------------------------------------


def test_a_crashed_worker_fails_only_its_own_run(process_executor: ProcessExecutor) -> None:
    _, other = submit(process_executor, Sleeper, duration=1.0)
    other.wait_started()
    _, crashed = submit(process_executor, Crashes, duration=0.0)
    outcome = crashed.outcome()
    assert outcome.error == "the worker process running this scenario died (exit code 3)"
    assert other.outcome().ok  # the run on the other worker was untouched
    _, after = submit(process_executor, Spin)
    assert after.outcome().ok


def test_a_worker_killed_from_outside_fails_its_run(process_executor: ProcessExecutor) -> None:
    _, run = submit(process_executor, Sleeper, duration=60)
    run.wait_started()
    pid = int(str(run.progress[0][1]).rsplit(" ", 1)[1])
    (victim,) = [p for p in worker_processes() if p.pid == pid]
    victim.kill()
    outcome = run.outcome()
    assert outcome.error == "the worker process running this scenario died (exit code -9)"
    _, after = submit(process_executor, Spin)
    assert after.outcome().ok


def test_runs_beyond_capacity_wait_in_order() -> None:
    executor = ProcessExecutor(max_workers=1)
    order: list[str] = []
    collectors = []
    try:
        for n in range(3):
            run = Collector()

            def done(outcome: RunOutcome, run: Collector = run, n: int = n) -> None:
                order.append(f"run{n}")  # one slot: never two calls at once
                run.on_done(outcome)

            request = RunRequest(f"run{n}", Spin, {"iterations": 1000}, items())
            executor.submit(request, run.on_progress, done)
            collectors.append(run)
        assert all(run.outcome().ok for run in collectors)
        assert order == ["run0", "run1", "run2"]
    finally:
        executor.shutdown()


def test_an_algorithm_that_cannot_be_pickled_fails_cleanly(
    process_executor: ProcessExecutor,
) -> None:
    class Local(Sleeper):  # not importable by module path
        pass

    _, run = submit(process_executor, Local)
    assert run.outcome().error.startswith("the run cannot be sent to a worker process")  # type: ignore[union-attr]
    _, after = submit(process_executor, Spin)
    assert after.outcome().ok


def test_process_shutdown_cancels_runs_and_leaves_no_processes() -> None:
    executor = ProcessExecutor(max_workers=2)
    handle, running = submit(executor, Sleeper, duration=60)
    busy, other = submit(executor, Sleeper, duration=60)
    _, queued = submit(executor, Sleeper, duration=60)
    running.wait_started()
    other.wait_started()
    executor.shutdown()
    assert running.outcome().cancelled and other.outcome().cancelled
    assert queued.outcome().cancelled and queued.progress == []
    assert handle.done() and busy.done()
    assert worker_processes() == []
    assert not [t for t in threading.enumerate() if t.name.startswith("algomancy-process")]
    executor.shutdown()  # idempotent
    with pytest.raises(RuntimeError, match="shut down"):
        submit(executor, Spin)


# -- the Dask executor --------------------------------------------------------------------


def test_dask_shutdown_cancels_runs_and_closes_its_client(cluster: LocalCluster) -> None:
    executor = DaskExecutor(cluster.scheduler_address, max_workers=2)
    handle, run = submit(executor, Sleeper, duration=60)
    run.wait_started()
    executor.shutdown()
    assert run.outcome().cancelled and handle.done()
    assert executor._client.status == "closed"
    assert not [t for t in threading.enumerate() if t.name == "algomancy-dask-monitor"]
    executor.shutdown()  # idempotent


def test_dask_leaves_a_client_it_was_given_open(cluster: LocalCluster) -> None:
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        executor = DaskExecutor(client, max_workers=1)
        _, run = submit(executor, Spin)
        assert run.outcome().ok
        executor.shutdown()
        assert client.status == "running"


def test_dask_a_lost_worker_fails_the_run_instead_of_rerunning_it(
    dask_executor: DaskExecutor,
) -> None:
    _, run = submit(dask_executor, Crashes, duration=0.0)
    outcome = run.outcome()
    assert outcome.error is not None
    assert outcome.error.startswith("the Dask worker running this scenario was lost")
    _, after = submit(dask_executor, Spin)
    assert after.outcome().ok


# -- end to end ---------------------------------------------------------------------------


def test_session_manager_on_the_process_executor() -> None:
    config = CoreConfig(
        algorithms=[Spin, Sleeper],
        kpis=[Rows],
        initial_datasets=lambda: {"Master data": items()},
        executor="process",
        max_workers=2,
    )
    with SessionManager(config) as sessions:
        main = sessions.get_session("main")
        done = main.create_scenario("spin", "Master data", "Spin", {"iterations": 50_000})
        main.run_scenario(done.id)
        record = main.wait(done.id, timeout=WAIT)
        assert record.status is ScenarioStatus.COMPLETE
        assert record.result is not None and record.result["iterations"] == 50_000
        assert record.kpis == {"rows": 3.0}

        slow = main.create_scenario("slow", "Master data", "Sleeper", {"duration": 60})
        main.run_scenario(slow.id)
        wait_for(lambda: main.get_scenario(slow.id).progress > 0, timeout=WAIT)
        main.cancel_scenario(slow.id)
        failed = main.wait(slow.id, timeout=WAIT)
        assert failed.status is ScenarioStatus.FAILED and failed.error == "cancelled"
    assert worker_processes() == []


def test_process_workers_run_at_a_lower_cpu_priority(process_executor: ProcessExecutor) -> None:
    _, run = submit(process_executor, Niceness)
    outcome = run.outcome()
    assert outcome.result is not None
    assert outcome.result.values["niceness"] == min(19, os.nice(0) + process_executor.niceness)
    assert process_executor.niceness == 19


def test_an_idle_worker_killed_from_outside_is_replaced() -> None:
    executor = ProcessExecutor(max_workers=1)
    try:
        _, first = submit(executor, Spin)
        assert first.outcome().ok
        (idle,) = worker_processes()
        idle.kill()
        idle.join(WAIT)
        _, after = submit(executor, Spin)
        assert after.outcome().ok  # ran on a new worker, not on the dead one
    finally:
        executor.shutdown()


def test_dask_a_finished_task_is_seen_at_once_not_at_the_next_poll(
    cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task's end wakes the monitor (its future's done-callback): with a poll
    interval of an hour, the outcome still comes."""
    from algomancy_core.executors import dask

    monkeypatch.setattr(dask, "POLL_INTERVAL", 3600.0)
    executor = DaskExecutor(cluster.scheduler_address, max_workers=1)
    try:
        for _ in range(2):  # and again: the wake is cleared and set anew
            handle, run = submit(executor, Spin)
            assert run.outcome().ok and handle.done()
    finally:
        executor.shutdown()
