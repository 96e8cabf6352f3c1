"""The executor protocol: executors only execute.

An executor takes an algorithm, its parameter values and a dataset, and gives back
progress reports and an outcome. It never touches the store or the state machine;
the dispatcher does that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import operator
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from algomancy_core.algorithm import (
    BaseAlgorithm,
    ProgressCallback,
    ReportCallback,
    RunCancelledError,
    RunContext,
)
from algomancy_core.result import BaseResult
from algomancy_data import DataSource


@dataclasses.dataclass(frozen=True, slots=True)
class RunRequest:
    """One run to execute."""

    scenario_id: str
    algorithm: type[BaseAlgorithm]
    parameters: dict[str, Any]
    data: DataSource
    #: The run's trace context (W3C `traceparent`, ...) when tracing is on: it
    #: travels with the job into worker processes and onto Dask workers.
    trace_context: dict[str, str] | None = None
    #: Given to the algorithm as `ctx.seed`.
    seed: int | None = None
    #: Names `data`'s content: two requests with one key carry equal data (the
    #: dispatcher's: the dataset version, its digest and the run's data-parameter
    #: values). The process executor sends the data of a key once per worker process;
    #: None: sent with each run.
    data_key: str | None = None

    def __reduce__(self) -> tuple[type[RunRequest], tuple[Any, ...]]:
        return _pickled(self)


@dataclasses.dataclass(frozen=True, slots=True)
class RunOutcome:
    """How a run ended: a result, an error message, or cancellation."""

    result: BaseResult | None = None
    error: str | None = None
    cancelled: bool = False
    traceback: str | None = None
    #: When the algorithm ran, where, for a traced run: (start, end) in ns since
    #: the epoch and `host:pid`, so that the server records the worker's span.
    worker_span: tuple[int, int, str] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled and self.result is not None

    def __reduce__(self) -> tuple[type[RunOutcome], tuple[Any, ...]]:
        return _pickled(self)


T = TypeVar("T")


def _pickled(value: T) -> tuple[type[T], tuple[Any, ...]]:
    """`value` pickled as its class called with its fields in order. Every run sends
    a request to a worker and gets an outcome back; the frozen dataclasses' own
    pickling (`__getstate__` and `__setstate__`, which list the fields again each
    time) was about a twentieth of the server's time per trivial point (py-spy,
    `pool_points` E2's points in process). Here (timeit, best of 5) a
    request pickles in 2.2 µs and loads in 2.6 (3.5 and 3.7 before), an outcome in
    1.9 and 1.6 (2.6 and 2.6), in the server and again in the worker."""
    kind = type(value)
    values = _FIELDS.get(kind)
    if values is None:  # a subclass
        names = (f.name for f in dataclasses.fields(value))  # type: ignore[arg-type]
        values = _FIELDS[kind] = operator.attrgetter(*names)
    return kind, values(value)


DoneCallback = Callable[[RunOutcome], None]
#: The outcomes of several runs, told in one call: (scenario id, outcome) pairs.
DoneManyCallback = Callable[[list[tuple[str, RunOutcome]]], None]
#: What `Executor.submit` takes: the request, `on_progress`, `on_done`, `on_report`.
Submission = tuple[RunRequest, ProgressCallback, DoneCallback, ReportCallback | None]

log = logging.getLogger("algomancy.executors")


@dataclasses.dataclass(frozen=True, slots=True)
class DoneTogether:
    """An `on_done` an executor may tell together with others (`tell_done`): runs
    that end together (quick ones, read from a worker's pipe at once) reach `many`
    in one call, which records them in one write (`Dispatcher._on_done_many`)."""

    scenario_id: str
    many: DoneManyCallback

    def __call__(self, outcome: RunOutcome) -> None:
        self.many([(self.scenario_id, outcome)])


def tell_done(ends: Sequence[tuple[DoneCallback, RunOutcome]]) -> None:
    """Call each `on_done` with its outcome, in order; `DoneTogether` ones that follow
    each other with one `many`, in one call. One that raises is logged, and the
    others are still called."""
    many: DoneManyCallback | None = None
    told: list[tuple[str, RunOutcome]] = []
    for done, outcome in ends:
        if isinstance(done, DoneTogether) and done.many == many:
            told.append((done.scenario_id, outcome))
            continue
        if many is not None:
            _tell(many, told)
        if isinstance(done, DoneTogether):
            many, told = done.many, [(done.scenario_id, outcome)]
        else:
            many, told = None, []
            _tell(done, outcome)
    if many is not None:
        _tell(many, told)


def _tell(callback: Callable[[T], None], value: T) -> None:
    try:
        callback(value)
    except Exception:
        log.exception("on_done failed")


def submit_many(executor: Executor, runs: Sequence[Submission]) -> list[RunHandle]:
    """Submit `runs` in order: in one call to an executor that has `submit_many` (the
    process executor: its slots take them in one go), else one `submit` each."""
    many = getattr(executor, "submit_many", None)
    if many is not None:
        return list(many(runs))
    return [executor.submit(*run) for run in runs]


class RunHandle(Protocol):
    """A submitted run."""

    def cancel(self) -> None:
        """Ask the run to stop; the outcome will say `cancelled`."""

    def done(self) -> bool: ...


class Executor(Protocol):
    """Runs algorithms somewhere: threads, processes, a Dask cluster."""

    #: How many runs may execute at once. An executor may also have `prefetch`:
    #: how many more runs it takes, queued for its next free worker (the dispatcher
    #: gives it experiments' points only); its handles then say `started()`.
    capacity: int

    def submit(
        self,
        request: RunRequest,
        on_progress: ProgressCallback,
        on_done: DoneCallback,
        on_report: ReportCallback | None = None,
    ) -> RunHandle:
        """Start `request`; `on_progress`, `on_report` (each intermediate value the
        algorithm reports, in order) and `on_done` may be called from any thread.
        `on_done` is called exactly once, after the last report."""

    def shutdown(self) -> None:
        """Stop accepting runs and cancel the ones under way."""


def execute(request: RunRequest, ctx: RunContext) -> RunOutcome:
    """Run one algorithm in the current thread and describe how it ended.

    Shared by every executor (in threads, worker processes and Dask workers). A
    traced run (`request.trace_context`) gives the context to the algorithm
    (`ctx.trace_context`), makes it current for OpenTelemetry where that is
    installed (spans the algorithm or its libraries make join the run's trace), and
    says when and where it ran (`RunOutcome.worker_span`).
    """
    ctx.seed = request.seed
    if request.trace_context is None:
        return _execute(request, ctx)
    ctx.trace_context = dict(request.trace_context)
    started = time.time_ns()
    with _current_trace(request.trace_context):
        outcome = _execute(request, ctx)
    where = f"{socket.gethostname()}:{os.getpid()}"
    return dataclasses.replace(outcome, worker_span=(started, time.time_ns(), where))


@contextlib.contextmanager
def _current_trace(carrier: Mapping[str, str]) -> Iterator[None]:
    """`carrier`'s trace context as OpenTelemetry's current one, if it is installed
    (an optional import: the core needs no tracing library)."""
    try:
        from opentelemetry import context, propagate
    except ImportError:
        yield
        return
    token = context.attach(propagate.extract(dict(carrier)))
    try:
        yield
    finally:
        context.detach(token)


def _execute(request: RunRequest, ctx: RunContext) -> RunOutcome:
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


#: The values of the fields of the classes `_pickled` pickles, in order.
_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]]] = {
    kind: operator.attrgetter(*(f.name for f in dataclasses.fields(kind)))
    for kind in (RunRequest, RunOutcome)
}
