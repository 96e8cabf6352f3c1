"""A run's request and outcome cross to a worker and back pickled as their class
called with their fields (`executors/base.py`, `_pickled`): everything they hold
comes back, for subclasses and copies too."""

from __future__ import annotations

import copy
import dataclasses
import pickle

from algomancy_core.executors.base import RunOutcome, RunRequest
from algomancy_core.result import BaseResult

from .executor_algorithms import Sleeper, items


def fields(value: object) -> dict[str, object]:
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}  # type: ignore[arg-type]


def test_a_request_comes_back_whole() -> None:
    request = RunRequest("s1", Sleeper, {"seconds": 0.5}, items(), {"traceparent": "00-a"}, 7, "k")
    for back in (pickle.loads(pickle.dumps(request, protocol=5)), copy.deepcopy(request)):
        got, sent = fields(back), fields(request)
        assert got.pop("data").get_table("items").equals(sent.pop("data").get_table("items"))
        assert got == sent
    assert copy.copy(request) == request


def test_an_outcome_comes_back_whole() -> None:
    outcomes = [
        RunOutcome(result=BaseResult({"total": 3.5}), worker_span=(1, 2, "host:9")),
        RunOutcome(error="ValueError: no", traceback="Traceback ..."),
        RunOutcome(cancelled=True),
    ]
    for outcome in outcomes:
        back = pickle.loads(pickle.dumps(outcome, protocol=5))
        assert type(back) is RunOutcome
        assert (back.error, back.cancelled, back.traceback, back.worker_span, back.ok) == (
            outcome.error,
            outcome.cancelled,
            outcome.traceback,
            outcome.worker_span,
            outcome.ok,
        )
        assert (back.result and back.result.values) == (outcome.result and outcome.result.values)


@dataclasses.dataclass(frozen=True, slots=True)
class TaggedOutcome(RunOutcome):
    tag: str = ""


def test_a_subclass_comes_back_with_its_own_fields() -> None:
    outcome = TaggedOutcome(error="late", tag="t1")
    back = pickle.loads(pickle.dumps(outcome))
    assert (type(back), back.error, back.tag) == (TaggedOutcome, "late", "t1")
