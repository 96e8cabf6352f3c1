"""The executor protocol: executors only execute.

An executor takes an algorithm, its parameter values and a dataset, and gives back
progress reports and an outcome. It never touches the store or the state machine;
the dispatcher does that.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from algomancy_core.algorithm import BaseAlgorithm, ProgressCallback, RunCancelledError, RunContext
from algomancy_core.result import BaseResult
from algomancy_data import DataSource


@dataclasses.dataclass(frozen=True, slots=True)
class RunRequest:
    """One run to execute."""

    scenario_id: str
    algorithm: type[BaseAlgorithm]
    parameters: dict[str, Any]
    data: DataSource
    #: Given to the algorithm as `ctx.seed`.
    seed: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended: a result, an error message, or cancellation."""

    result: BaseResult | None = None
    error: str | None = None
    cancelled: bool = False
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled and self.result is not None


DoneCallback = Callable[[RunOutcome], None]


class RunHandle(Protocol):
    """A submitted run."""

    def cancel(self) -> None:
        """Ask the run to stop; the outcome will say `cancelled`."""

    def done(self) -> bool: ...


class Executor(Protocol):
    """Runs algorithms somewhere: threads, processes, a Dask cluster."""

    #: How many runs may execute at once.
    capacity: int

    def submit(
        self, request: RunRequest, on_progress: ProgressCallback, on_done: DoneCallback
    ) -> RunHandle:
        """Start `request`; `on_progress` and `on_done` may be called from any thread.
        `on_done` is called exactly once."""

    def shutdown(self) -> None:
        """Stop accepting runs and cancel the ones under way."""


def execute(request: RunRequest, ctx: RunContext) -> RunOutcome:
    """Run one algorithm in the current thread and describe how it ended.

    Shared by every executor (in threads, worker processes and Dask workers).
    """
    ctx.seed = request.seed
    try:
        algorithm = request.algorithm(request.parameters)
        result = algorithm.run(request.data, ctx)
    except RunCancelledError:
        return RunOutcome(cancelled=True)
    except Exception as exc:
        if ctx.cancelled:
            return RunOutcome(cancelled=True)
        return RunOutcome(error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    if ctx.cancelled:
        return RunOutcome(cancelled=True)
    if not isinstance(result, BaseResult):
        return RunOutcome(
            error=f"algorithm {request.algorithm.algorithm_name()!r} returned "
            f"{type(result).__name__}, not a BaseResult"
        )
    return RunOutcome(result=result)
