"""Intermediate values through the `Executor` protocol: the process and Dask
executors relay every report, in order, before the outcome."""

from __future__ import annotations

import threading

import pytest

from algomancy_core.executors.base import Executor, RunOutcome, RunRequest

from .executor_algorithms import items
from .report_algorithms import Reporter, value_at
from .test_core_executors import cluster, dask_executor, executor, process_executor  # noqa: F401

#: Worker processes and a Dask cluster.
pytestmark = pytest.mark.slow


def test_every_report_is_relayed_in_order_before_the_end(executor: Executor) -> None:  # noqa: F811
    reports: list[tuple[int, float]] = []
    outcomes: list[tuple[RunOutcome, int]] = []
    ended = threading.Event()

    def on_done(outcome: RunOutcome) -> None:
        outcomes.append((outcome, len(reports)))
        ended.set()

    request = RunRequest("s-reports", Reporter, {"steps": 500}, items())
    executor.submit(
        request,
        lambda progress, message: None,
        on_done,
        lambda step, value: reports.append((step, value)),
    )
    assert ended.wait(120), "the run did not end"
    ((outcome, reported_before_the_end),) = outcomes
    assert outcome.ok
    assert reported_before_the_end == 500
    assert reports == [(step, value_at(step)) for step in range(500)]
