"""How the process executor sends runs to its workers: a dataset once per worker
(`dump_job`, `load_job`, `DataCache`), and the progress it relays."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from algomancy_core import CoreConfig, ScenarioStatus, SessionManager
from algomancy_core.executors.base import RunOutcome, RunRequest
from algomancy_core.executors.process import (
    DataCache,
    ProcessExecutor,
    _Job,
    copies_safely,
    dump_job,
    dump_outcome,
    load_job,
)
from algomancy_core.executors.process_worker import conn_poller
from algomancy_core.experiments.service import create_experiment
from algomancy_core.result import BaseResult
from algomancy_data import DataSource
from tests.polling import wait_for

from .executor_algorithms import Marks, Sleeper, items
from .test_core_executors import WAIT, Collector

S = ScenarioStatus


def request(scenario_id: str, key: str | None = "version-1") -> RunRequest:
    return RunRequest(scenario_id, Marks, {}, items(), data_key=key)


def test_a_worker_is_sent_a_dataset_once_and_each_run_gets_its_own_copy() -> None:
    cache = DataCache()
    first, with_data = dump_job(request("a"), held=None)
    assert with_data
    second, again = dump_job(request("b"), held="version-1")
    assert not again and len(second) < len(first) // 2  # the request alone
    one, two = load_job(first, cache), load_job(second, cache)
    assert (one.scenario_id, two.scenario_id) == ("a", "b")
    assert two.data.get_table("items")["qty"].tolist() == [1, 2, 3]
    one.data.data_parameters["marked"] = True  # what a run does to its data stays there
    assert "marked" not in load_job(second, cache).data.data_parameters


def test_a_run_that_changes_its_table_in_place_leaves_the_next_runs_copy_alone() -> None:
    """The worker copies the data it unpickled once (`DataCache`, `run_copy`), not the
    frames a run changed."""
    cache = DataCache()
    first, _ = dump_job(request("a"), held=None)
    second, _ = dump_job(request("b"), held="version-1")
    table = load_job(first, cache).data.get_table("items")
    table.loc[0, "qty"] = 100
    table["extra"] = 1
    again = load_job(second, cache).data.get_table("items")
    assert again["qty"].tolist() == [1, 2, 3] and "extra" not in again.columns


def test_a_table_holding_mutable_objects_is_unpickled_afresh_for_each_run() -> None:
    """pandas' deep copy shares the lists in an object column: such data is
    unpickled for each run instead (`copies_safely`)."""
    data = DataSource("Master data", tables={"items": pd.DataFrame({"tags": [["a"], ["b"]]})})
    assert not copies_safely(data) and copies_safely(items())
    cache = DataCache()
    payload, _ = dump_job(RunRequest("a", Marks, {}, data, data_key="lists"), held=None)
    load_job(payload, cache).data.get_table("items")["tags"][0].append("changed")
    assert load_job(payload, cache).data.get_table("items")["tags"][0] == ["a"]


def test_a_request_without_a_key_carries_its_data_each_time() -> None:
    cache = DataCache()
    payload, with_data = dump_job(request("a", key=None), held=None)
    assert not with_data and cache.key is None
    assert load_job(payload, cache).data.get_table("items")["qty"].tolist() == [1, 2, 3]
    again, _ = dump_job(request("b", key=None), held=None)
    assert len(again) == len(payload)


def test_a_worker_sent_no_data_for_a_key_it_lacks_refuses_the_run() -> None:
    other, _ = dump_job(request("a", key="version-2"), held="version-2")
    with pytest.raises(pickle.UnpicklingError, match="version-2"):
        load_job(other, DataCache())


class Alive:
    """A worker process that stays alive (there is none)."""

    def is_alive(self) -> bool:
        return True


class PipeWorker:
    """A worker's server end whose messages are written beforehand (no process)."""

    def __init__(self, *messages: tuple[Any, ...]) -> None:
        self.conn, self.child = multiprocessing.Pipe(duplex=True)
        for message in messages:
            self.child.send(message)
        self.ready = conn_poller(self.conn)
        self.data_key: str | None = None
        self.process = Alive()
        self.send_lock = threading.Lock()


def relayed(*messages: tuple[Any, ...]) -> tuple[list[tuple[float, str | None]], RunOutcome]:
    """The progress the slot relays when the worker sent `messages`, and the outcome."""
    executor = ProcessExecutor(max_workers=1)
    collector = Collector()
    job = _Job(executor, request("a"), collector.on_progress, collector.on_done)
    worker = PipeWorker(*messages)
    outcome, healthy = executor._run(job, worker)  # type: ignore[arg-type]
    assert healthy
    assert worker.child.poll(WAIT)  # the run was sent
    return collector.progress, outcome


def test_a_bare_progress_number_right_before_a_success_is_not_relayed() -> None:
    ok = ("done", dump_outcome(RunOutcome(result=BaseResult({"n": 1}))))
    progress, outcome = relayed(("progress", 1.0, None), ok)
    assert outcome.ok and progress == []  # the run's end writes progress 1.0


def test_progress_with_a_message_or_before_a_failure_is_relayed() -> None:
    ok = ("done", dump_outcome(RunOutcome(result=BaseResult({"n": 1}))))
    progress, _ = relayed(("progress", 0.5, None), ("progress", 1.0, "all routes"), ok)
    assert progress == [(0.5, None), (1.0, "all routes")]
    failed = ("done", dump_outcome(RunOutcome(error="ValueError: no")))
    progress, outcome = relayed(("progress", 0.25, None), failed)
    assert outcome.error == "ValueError: no" and progress == [(0.25, None)]


@pytest.fixture
def one_worker() -> Iterator[ProcessExecutor]:
    executor = ProcessExecutor(max_workers=1)
    yield executor
    executor.shutdown()


@pytest.mark.slow
def test_runs_on_one_worker_with_one_data_key_each_see_fresh_data(
    one_worker: ProcessExecutor,
) -> None:
    """The worker keeps the dataset, not the object a run changed."""
    seen = []
    for scenario_id in ("a", "b", "c"):
        collector = Collector()
        one_worker.submit(request(scenario_id), collector.on_progress, collector.on_done)
        outcome = collector.outcome()
        assert outcome.result is not None, outcome.error
        seen.append(outcome.result.to_dict())
    assert len({values["pid"] for values in seen}) == 1  # one worker ran them all
    assert [(values["found"], values["rows"]) for values in seen] == [(False, 3)] * 3


@pytest.mark.slow
def test_a_point_is_claimed_ahead_of_a_free_worker_and_a_sessions_own_run_never_is() -> None:
    """One worker: one point runs, the next is claimed ahead (processing, waiting in
    the executor), the third stays queued. A point claimed ahead is cancelled at
    once; then the session's own run, queued meanwhile, is not claimed ahead (it
    stays queued, not `processing`) and starts when the worker is free, before the
    points still queued."""
    config = CoreConfig(
        algorithms=[Sleeper],
        initial_datasets=lambda: {"Master data": items()},
        executor="process",
        max_workers=1,
    )
    with SessionManager(config) as sessions:
        main = sessions.get_session("main")
        base = {"algo_name": "Sleeper", "dataset_key": "Master data"}
        design = {"kind": "grid", "axes": [{"name": "duration", "values": [50, 51, 52]}]}
        first, ahead, last = create_experiment(main, "wide", base, design, 10).scenario_ids

        def statuses() -> list[S]:
            return [main.get_scenario(i).status for i in (first, ahead, last)]

        wait_for(statuses, lambda s: s == [S.PROCESSING, S.PROCESSING, S.QUEUED], timeout=WAIT)
        wait_for(lambda: main.get_scenario(first).progress > 0, timeout=WAIT)
        assert main.get_scenario(ahead).progress == 0  # claimed, not started
        own = main.create_scenario("mine", "Master data", "Sleeper", {"duration": 0})
        main.run_scenario(own.id)
        main.cancel_scenario(ahead)
        cancelled = main.get_scenario(ahead)
        assert cancelled.status is S.FAILED and cancelled.error == "cancelled"
        # The worker is busy: the next to claim is the session's own, so nothing is
        # claimed ahead of it (a poll of the dispatcher looks again: still nothing).
        time.sleep(0.6)  # one poll interval: not a timing assertion
        assert main.get_scenario(own.id).status is S.QUEUED and main.processing() is None
        assert main.get_scenario(last).status is S.QUEUED
        main.cancel_scenario(first)
        done = main.wait(own.id, timeout=WAIT)
        assert done.status is S.COMPLETE
        wait_for(lambda: main.get_scenario(last).started_at, timeout=WAIT)
        assert done.started_at is not None
        assert done.started_at < main.get_scenario(last).started_at  # type: ignore[operator]
        main.cancel_scenario(last)
