"""`ThreadExecutor`: runs algorithms on a thread pool shared by every session."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from algomancy_core.algorithm import ProgressCallback, ReportCallback, RunContext
from algomancy_core.executors.base import DoneCallback, RunOutcome, RunRequest, execute


class _ThreadRun:
    def __init__(self, ctx: RunContext, future: Future[RunOutcome]) -> None:
        self._ctx = ctx
        self._future = future

    def cancel(self) -> None:
        # A thread cannot be killed: the run stops at its next progress report.
        self._ctx.cancel()

    def done(self) -> bool:
        return self._future.done()


class ThreadExecutor:
    """A fixed pool of threads; cancellation is cooperative.

    Good for algorithms that release the GIL (NumPy, pandas, solvers in C) or that
    wait; CPU-bound Python belongs on the process executor.
    """

    def __init__(self, max_workers: int = 4) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.capacity = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="algomancy-run")
        self._lock = threading.Lock()
        self._runs: set[_ThreadRun] = set()

    def submit(
        self,
        request: RunRequest,
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None = None,
    ) -> _ThreadRun:
        ctx = RunContext(on_progress=on_progress, on_report=on_report)
        future = self._pool.submit(execute, request, ctx)
        run = _ThreadRun(ctx, future)
        with self._lock:
            self._runs.add(run)

        def finished(f: Future[RunOutcome]) -> None:
            with self._lock:
                self._runs.discard(run)
            if f.cancelled():
                on_done(RunOutcome(cancelled=True))
            elif (exc := f.exception()) is not None:
                on_done(RunOutcome(error=f"executor error: {exc!r}"))
            else:
                on_done(f.result())

        future.add_done_callback(finished)
        return run

    def shutdown(self) -> None:
        with self._lock:
            runs = list(self._runs)
        for run in runs:
            run.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
