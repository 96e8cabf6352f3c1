"""Algorithms: template classes with a parameter set and `run(data, ctx) -> result`."""

from __future__ import annotations

import math
import numbers
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from algomancy_core.parameters import BaseParameterSet
from algomancy_core.result import BaseResult
from algomancy_core.views import ResultView
from algomancy_data import DataSource


class RunCancelledError(Exception):
    """Raised inside a run (by `RunContext.progress`) once the run was cancelled."""


ProgressCallback = Callable[[float, str | None], None]
#: Takes one intermediate value of a run: `(step, value)` (see `RunContext.report`).
ReportCallback = Callable[[int, float], None]


def check_report(value: object, step: object) -> tuple[int, float]:
    """`(step, value)` of a valid report, else a `ValueError` saying what is wrong:
    the value must be a finite real number, the step a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"a report's value must be a real number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"a report's value must be finite, got {number!r}")
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise ValueError(f"a report's step must be an integer, got {step!r}")
    if int(step) < 0:
        raise ValueError(f"a report's step must be 0 or more, got {step!r}")
    return int(step), number


class RunContext:
    """What a running algorithm can talk to: progress reports, intermediate values
    and cancellation.

    `progress()` and `report()` raise `RunCancelledError` once the run was
    cancelled, so an algorithm that reports stops at its next report without further
    code; one that does long work between reports can check `cancelled` itself.
    """

    def __init__(
        self,
        on_progress: ProgressCallback | None = None,
        cancel_event: threading.Event | None = None,
        is_cancelled: Callable[[], bool] | None = None,
        seed: int | None = None,
        on_report: ReportCallback | None = None,
    ) -> None:
        self._on_progress = on_progress
        self._on_report = on_report
        #: The step of the latest intermediate value (`report`), or None.
        self.last_step: int | None = None
        self._cancel_event = cancel_event or threading.Event()
        self._is_cancelled = is_cancelled
        self.last_progress = 0.0
        self.last_message: str | None = None
        #: The run's random seed: fixed per scenario and recorded in its lineage, so
        #: that a re-run draws the same numbers (`random.Random(ctx.seed)`).
        self.seed = seed
        #: The run's trace context (W3C `traceparent`...) when the server traces
        #: runs, else None: for an algorithm that makes spans of its own.
        self.trace_context: dict[str, str] | None = None

    @property
    def cancelled(self) -> bool:
        """True once the run was asked to stop."""
        if self._cancel_event.is_set():
            return True
        if self._is_cancelled is not None and self._is_cancelled():
            self._cancel_event.set()
            return True
        return False

    def cancel(self) -> None:
        self._cancel_event.set()

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Report progress in [0.0, 1.0] (clamped) with an optional message."""
        if self.cancelled:
            raise RunCancelledError("cancelled")
        try:
            value = float(fraction)
        except (TypeError, ValueError):
            raise ValueError(f"progress must be a number in [0, 1], got {fraction!r}") from None
        if math.isnan(value):
            raise ValueError("progress must be a number in [0, 1], got NaN")
        value = min(1.0, max(0.0, value))
        self.last_progress, self.last_message = value, message
        if self._on_progress is not None:
            self._on_progress(value, message)

    def report(self, value: float, step: int) -> None:
        """Report an intermediate value of the run's objective at `step` (an
        iteration, an epoch...): a finite number, steps increasing from 0 or more.

        The values are kept with the scenario's run (`GET …/scenarios/{id}/reports`)
        and let an optimisation study stop (prune) a run that is not promising. A
        bad value or a step not after the previous one raises `ValueError`."""
        if self.cancelled:
            raise RunCancelledError("cancelled")
        step, number = check_report(value, step)
        if self.last_step is not None and step <= self.last_step:
            raise ValueError(
                f"a report's step must increase: step {step} comes after step {self.last_step}"
            )
        self.last_step = step
        if self._on_report is not None:
            self._on_report(step, number)

    def check_cancelled(self) -> None:
        """Raise `RunCancelledError` if the run was cancelled."""
        if self.cancelled:
            raise RunCancelledError("cancelled")


class BaseAlgorithm(ABC):
    """A template for one kind of run. Subclass, name it, declare its parameters:

        class Slow(BaseAlgorithm):
            name = "Slow"
            parameters = SlowParameters

            def run(self, data, ctx):
                ...
                return MyResult(...)

    An instance holds validated parameter values in `self.params`.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    parameters: ClassVar[type[BaseParameterSet]] = BaseParameterSet
    #: Optional run time limit in seconds; a run past it is cancelled and fails.
    timeout: ClassVar[float | None] = None
    #: How its results are drawn in the web app (see `ResultView`).
    views: ClassVar[Sequence[ResultView]] = ()
    #: Optional version, recorded in each run's lineage and fingerprint; by default
    #: a digest of the class's source (see `algomancy_core.lineage`).
    version: ClassVar[str | None] = None

    def __init__(self, params: Mapping[str, Any] | BaseParameterSet | None = None) -> None:
        if isinstance(params, BaseParameterSet):
            self.params = params
        else:
            self.params = self.parameters(params)

    @classmethod
    def algorithm_name(cls) -> str:
        return cls.name or cls.__name__

    @abstractmethod
    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        """Compute a result from `data`, reporting progress through `ctx`."""
