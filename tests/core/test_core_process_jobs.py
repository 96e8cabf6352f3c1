"""How the process executor sends runs to its workers: a dataset once per worker
(`dump_job`, `load_job`, `DataCache`), and the progress it relays."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from algomancy_core.executors.base import RunOutcome, RunRequest
from algomancy_core.executors.process import (
    DataCache,
    ProcessExecutor,
    _Job,
    dump_job,
    dump_outcome,
    load_job,
)
from algomancy_core.result import BaseResult

from .executor_algorithms import Marks, items
from .test_core_executors import WAIT, Collector


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


class PipeWorker:
    """A worker's server end whose messages are written beforehand (no process)."""

    def __init__(self, *messages: tuple[Any, ...]) -> None:
        self.conn, self.child = multiprocessing.Pipe(duplex=True)
        for message in messages:
            self.child.send(message)
        self.data_key: str | None = None
        self.process = None


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
