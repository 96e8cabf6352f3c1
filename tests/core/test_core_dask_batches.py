"""The Dask executor's batches: fast runs share a task, slow ones spread over the
workers, and cancels and lost workers touch only their own runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from distributed import LocalCluster

from algomancy_core import BaseAlgorithm, CoreConfig, ScenarioStatus, SessionManager
from algomancy_core.executors.base import RunOutcome
from algomancy_core.executors.dask import MAX_BATCH, DaskExecutor
from algomancy_core.experiments.service import create_experiment

from .executor_algorithms import Crashes, ReportsOnce, Sleeper, Spin, items
from .test_core_executors import WAIT, Collector, cluster, submit  # noqa: F401

#: A Dask cluster: real worker processes.
pytestmark = pytest.mark.slow


@pytest.fixture
def one_worker(cluster: LocalCluster) -> Iterator[DaskExecutor]:  # noqa: F811
    executor = DaskExecutor(cluster.scheduler_address, max_workers=1)
    yield executor
    executor.shutdown()


def learn(executor: DaskExecutor, algorithm: type[BaseAlgorithm], **values: float) -> None:
    """A few runs of `algorithm`, so that the executor knows how long its runs take
    (the first on a fresh worker can be slower)."""
    for _ in range(3):
        assert submit(executor, algorithm, **values)[1].outcome().ok


def test_fast_runs_share_a_task_in_order_and_slow_ones_do_not(one_worker: DaskExecutor) -> None:
    learn(one_worker, Spin, iterations=1)
    assert one_worker.prefetch > one_worker.capacity  # fast runs: it takes more ahead
    before = one_worker.tasks_submitted
    runs = [submit(one_worker, Spin, iterations=n + 1)[1] for n in range(40)]
    outcomes = [run.outcome() for run in runs]
    assert all(outcome.ok for outcome in outcomes)
    order = [outcome.result.values["iterations"] for outcome in outcomes if outcome.result]
    assert order == list(range(1, 41))
    # The first goes alone (submitted to an idle worker), the rest in batches.
    assert one_worker.tasks_submitted - before <= 1 + -(-39 // MAX_BATCH) + 2

    learn(one_worker, Sleeper, duration=0.3)
    assert one_worker.prefetch == one_worker.capacity  # slow runs: one ahead per worker
    before = one_worker.tasks_submitted
    slow = [submit(one_worker, Sleeper, duration=0.3)[1] for _ in range(3)]
    assert all(run.outcome().ok for run in slow)
    assert one_worker.tasks_submitted - before == 3  # one run per task


def test_slow_runs_spread_over_both_workers(cluster: LocalCluster) -> None:  # noqa: F811
    executor = DaskExecutor(cluster.scheduler_address, max_workers=2)
    try:
        learn(executor, Sleeper, duration=0.3)
        runs = [submit(executor, Sleeper, duration=0.3)[1] for _ in range(4)]
        pids = {run.outcome().result.values["pid"] for run in runs}  # type: ignore[union-attr]
        assert len(pids) == 2
    finally:
        executor.shutdown()


def batch_behind_a_fast_run(executor: DaskExecutor) -> list[Collector]:
    """On one worker: a fast Sleeper, then a batch of a 60 s one and two fast ones
    (queued while the first runs, so they go in one task)."""
    learn(executor, Sleeper, duration=0.0)
    runs = [submit(executor, Sleeper, duration=0.0)[1]]
    runs += [submit(executor, Sleeper, duration=d)[1] for d in (60.0, 0.0, 0.0)]
    return runs


def test_cancel_of_a_running_run_in_a_batch_lets_the_rest_run(one_worker: DaskExecutor) -> None:
    handles_before = one_worker.tasks_submitted
    first, slow, after, last = batch_behind_a_fast_run(one_worker)
    assert first.outcome().ok
    slow.wait_started()
    assert one_worker.tasks_submitted - handles_before == 5  # learning, the first, the batch
    (task,) = one_worker._tasks.values()
    task.runs[0].cancel()
    assert slow.outcome() == RunOutcome(cancelled=True)  # at once, not at the batch's end
    assert after.outcome().ok and last.outcome().ok  # the worker saw it and went on


def test_cancel_of_a_run_waiting_in_a_batch_never_runs_it(one_worker: DaskExecutor) -> None:
    first, slow, after, last = batch_behind_a_fast_run(one_worker)
    assert first.outcome().ok
    slow.wait_started()
    (task,) = one_worker._tasks.values()
    task.runs[1].cancel()
    assert after.outcome() == RunOutcome(cancelled=True)
    task.runs[0].cancel()
    assert slow.outcome().cancelled
    assert last.outcome().ok
    assert after.progress == []  # skipped, not run


def test_a_lost_worker_fails_only_the_run_it_was_running(one_worker: DaskExecutor) -> None:
    learn(one_worker, Spin, iterations=1)
    one_worker._estimates["Crashes"] = 0.0  # as if its runs were fast: it joins a batch
    blocker = submit(one_worker, Sleeper, duration=0.5)[1]
    runs = [submit(one_worker, Spin, iterations=1)[1]]
    runs.append(submit(one_worker, Crashes, duration=0.5)[1])
    runs += [submit(one_worker, Spin, iterations=1)[1] for _ in range(2)]
    assert blocker.outcome().ok
    outcomes = [run.outcome() for run in runs]
    assert outcomes[1].error is not None
    assert outcomes[1].error.startswith("the Dask worker running this scenario was lost")
    assert outcomes[0].ok and outcomes[2].ok and outcomes[3].ok


def test_an_experiment_on_dask_runs_its_points_in_batches_and_a_sessions_own_run_too(
    cluster: LocalCluster,  # noqa: F811
) -> None:
    """Through the dispatcher: it reads the executor's `prefetch` as it changes (more
    ahead once runs are known to be fast), every point completes, and a session's
    own run queued during the experiment completes as well."""
    config = CoreConfig(
        algorithms=[Spin],
        initial_datasets=lambda: {"Master data": items()},
        executor="dask",
        dask_address=cluster.scheduler_address,
        max_workers=2,
    )
    with SessionManager(config) as sessions:
        main = sessions.get_session("main")
        base = {"algo_name": "Spin", "dataset_key": "Master data"}
        design = {"kind": "grid", "axes": [{"name": "iterations", "values": list(range(1, 121))}]}
        ids = create_experiment(main, "fast", base, design, 1000).scenario_ids
        own = main.create_scenario("mine", "Master data", "Spin", {"iterations": 7})
        main.run_scenario(own.id)
        done = main.wait(own.id, timeout=WAIT)
        assert done.status is ScenarioStatus.COMPLETE and done.result == {
            "iterations": 7,
            "checksum": 91,
        }
        records = [main.wait(i, timeout=WAIT) for i in ids]
        assert all(r.status is ScenarioStatus.COMPLETE for r in records)
        assert [r.result["iterations"] for r in records if r.result] == list(range(1, 121))
        dispatcher = sessions.runtime.dispatcher
        executor = dispatcher.executor
        assert isinstance(executor, DaskExecutor)
        assert dispatcher.prefetch == executor.prefetch > executor.capacity
        assert executor.tasks_submitted < len(ids)  # points shared tasks


def test_a_report_made_early_in_a_run_arrives_while_the_run_goes_on(
    one_worker: DaskExecutor,
) -> None:
    """A run's events of its first moments are held back to go with the next ones;
    a run that then goes quiet still has them sent (the worker's flusher)."""
    learn(one_worker, ReportsOnce, duration=0.0)  # its module loaded: a run starts at once
    handle, run = submit(one_worker, ReportsOnce, duration=60.0)
    run.wait_started()
    assert run.progress == [(0.5, "reported once")] and not handle.done()
    handle.cancel()
    assert run.outcome().cancelled
