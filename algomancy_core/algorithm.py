"""Algorithms: template classes with a parameter set and `run(data, ctx) -> result`."""

from __future__ import annotations

import math
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


class RunContext:
    """What a running algorithm can talk to: progress reports and cancellation.

    `progress()` raises `RunCancelledError` once the run was cancelled, so an
    algorithm that reports progress stops at its next report without further code;
    one that does long work between reports can check `cancelled` itself.
    """

    def __init__(
        self,
        on_progress: ProgressCallback | None = None,
        cancel_event: threading.Event | None = None,
        is_cancelled: Callable[[], bool] | None = None,
        seed: int | None = None,
    ) -> None:
        self._on_progress = on_progress
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
