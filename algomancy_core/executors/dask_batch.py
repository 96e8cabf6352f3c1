"""The pieces of `DaskExecutor` (`executors/dask.py`) that hold no connection: a
submitted run (`DaskRun`, its handle), a task's batch of runs (`Task`), and how
long a batch is (`batch_size`, by durations averaged with `average`)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from distributed.client import Future

from algomancy_core.algorithm import ProgressCallback, ReportCallback
from algomancy_core.executors.base import DoneCallback, RunRequest

#: A batch holds about this many seconds of runs, by their measured durations.
BATCH_SECONDS = 0.1
#: At most this many runs per task.
MAX_BATCH = 32
#: Weight of the latest duration in a run's estimate (an exponential average).
ESTIMATE_WEIGHT = 0.5


class DaskRun:
    """A submitted run; also its `RunHandle`. `cancel_runs` is its executor's way to
    cancel runs (`DaskExecutor._cancel`)."""

    def __init__(
        self,
        cancel_runs: Callable[[list[DaskRun]], None],
        request: RunRequest,
        job: bytes,
        blob: tuple[str, bytes],
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None,
    ) -> None:
        self._cancel_runs = cancel_runs
        self.scenario_id = request.scenario_id
        self.algorithm = request.algorithm.algorithm_name()
        self.job = job
        self.blob = blob
        self.on_progress = on_progress
        self.on_report = on_report
        self.on_done = on_done
        self.task: Task | None = None
        self.cancel_requested = False
        #: Whether a worker started it (the dispatcher's time limit counts from then).
        self.started = False
        self.finished = False

    def cancel(self) -> None:
        self._cancel_runs([self])

    def done(self) -> bool:
        return self.finished


class Task:
    """A Dask task running a batch of runs."""

    def __init__(self, key: str, runs: list[DaskRun]) -> None:
        self.key = key
        self.runs = runs
        self.future: Future | None = None
        #: Indexes of its cancelled runs, as told to the worker.
        self.cancelled: set[int] = set()
        #: Held while telling the worker of cancels and while cleaning up.
        self.signal_lock = threading.Lock()
        self.closed = False
        #: The last of its runs a worker said it started.
        self.last_started: int | None = None
        #: Its future was cancelled: every run in it was.
        self.abandoned = False


def batch_size(seconds: float | None) -> int:
    """Runs per batch when each takes `seconds` (None: not known yet)."""
    if seconds is None:
        return 1
    return max(1, min(MAX_BATCH, int(BATCH_SECONDS / max(seconds, 1e-6))))


def average(before: float | None, seconds: float) -> float:
    return seconds if before is None else before + ESTIMATE_WEIGHT * (seconds - before)
