"""The one list of listeners to runs: metrics, traces and webhooks.

What the lifecycle and the dispatcher tell about the runs this process handles.
The core records nothing itself and imports no metrics, tracing or HTTP library; a
host (the HTTP server) adds `RunObserver`s to `Runtime.observers`. An observer that
raises is logged and ignored: watching a run never breaks it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TypeVar, get_args

from algomancy_core.executors.base import RunOutcome
from algomancy_core.reports import Report
from algomancy_core.scenario import CANCELLED, INTERRUPTED, ScenarioRecord, ScenarioStatus

log = logging.getLogger("algomancy.observe")
T = TypeVar("T")

#: How a run ended, as `run_ended` names it.
Outcome = Literal["complete", "failed", "cancelled", "timed_out", "interrupted"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)


class RunObserver:
    """Told about runs; every method does nothing unless overridden."""

    def queue_context(self) -> Mapping[str, str] | None:
        """A run is being queued here (a `run` request): the trace context (W3C
        `traceparent` and friends) of the current request, or None. It is stored
        with the queued run (`ScenarioRecord.trace_context`), so the process that
        claims it, this one or another on the same store, continues the trace."""
        return None

    def run_queued(self, record: ScenarioRecord) -> None:
        """`record` became queued in this process (a `run` request)."""

    def run_withdrawn(self, record: ScenarioRecord) -> None:
        """`record` left the queue without running (cancelled while queued), in
        this process."""

    def run_started(self, record: ScenarioRecord) -> Mapping[str, str] | None:
        """This process claimed `record` (now processing; its `trace_context` the
        one stored when it was queued) and hands it to the executor. May answer a
        trace context (W3C `traceparent` and friends) that
        goes with the job to the executor (`RunRequest.trace_context`)."""
        return None

    def run_ended(
        self,
        record: ScenarioRecord,
        outcome: str,
        seconds: float,
        executed: RunOutcome | None,
    ) -> None:
        """The run of `record` (as claimed) ended after `seconds`: `outcome` is one
        of `OUTCOMES`; `executed` is what the executor gave back (None when the run
        was settled without it: an interrupted one)."""

    def run_settled(self, record: ScenarioRecord) -> None:
        """A write of this process made `record` complete or failed, whatever the
        cause (a run's end, a cancel while queued, an interrupted run given up):
        `record` as written. Told once per settled run, after the write."""

    def run_reported(self, scenario_id: str, reports: list[Report]) -> None:
        """A run of this process reported intermediate values (`ctx.report`), written
        to the store already. Keep it quick: on a memory store it is told in the
        run's own thread."""


def outcome_name(
    stop_reason: str | None, executed: RunOutcome, written: ScenarioRecord | None
) -> Outcome:
    """One of `OUTCOMES` for a run the dispatcher saw end."""
    if written is not None and written.status is ScenarioStatus.COMPLETE:
        return "complete"
    if stop_reason == INTERRUPTED:
        return "interrupted"
    if stop_reason is not None and stop_reason.startswith("timed out"):
        return "timed_out"
    if stop_reason == CANCELLED or executed.cancelled or written is None:
        return "cancelled"
    return "failed"


class Observers:
    """The observers of one engine, called in order, each failure logged."""

    def __init__(self, observers: Iterable[RunObserver] = ()) -> None:
        self.items: list[RunObserver] = list(observers)

    def add(self, observer: RunObserver) -> None:
        self.items.append(observer)

    def remove(self, observer: RunObserver) -> None:
        """Stop telling `observer` (nothing when it was not told)."""
        if observer in self.items:
            self.items.remove(observer)

    def __bool__(self) -> bool:
        return bool(self.items)

    def _tell(self, what: str, call: Callable[[RunObserver], T]) -> list[T]:
        """`call(observer)` for each observer in order, their answers; one that
        raises is logged ("failed on `what`") and skipped."""
        answers: list[T] = []
        for observer in self.items:
            try:
                answers.append(call(observer))
            except Exception:
                log.exception("run observer %r failed on %s", observer, what)
        return answers

    @staticmethod
    def _last_context(carried: list[Mapping[str, str] | None]) -> dict[str, str] | None:
        """The last non-empty context of `carried` (a later observer's wins)."""
        found = [dict(context) for context in carried if context]
        return found[-1] if found else None

    def queue_context(self) -> dict[str, str] | None:
        return self._last_context(self._tell("a queued run's context", lambda o: o.queue_context()))

    def run_queued(self, record: ScenarioRecord) -> None:
        self._tell("a queued run", lambda o: o.run_queued(record))

    def run_withdrawn(self, record: ScenarioRecord) -> None:
        self._tell("a withdrawn run", lambda o: o.run_withdrawn(record))

    def run_started(self, record: ScenarioRecord) -> dict[str, str] | None:
        return self._last_context(self._tell("a started run", lambda o: o.run_started(record)))

    def run_ended(
        self, record: ScenarioRecord, outcome: str, seconds: float, executed: RunOutcome | None
    ) -> None:
        self._tell("an ended run", lambda o: o.run_ended(record, outcome, seconds, executed))

    def run_settled(self, record: ScenarioRecord) -> None:
        self._tell("a settled run", lambda o: o.run_settled(record))

    def run_reported(self, scenario_id: str, reports: list[Report]) -> None:
        self._tell("a run's reports", lambda o: o.run_reported(scenario_id, reports))
