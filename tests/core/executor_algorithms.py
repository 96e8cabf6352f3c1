"""Algorithms for the executor tests.

Worker processes and Dask workers import these by module path, so they live in an
ordinary module rather than in a conftest.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pandas as pd

from algomancy_core import (
    BaseAlgorithm,
    BaseKPI,
    BaseParameterSet,
    BaseResult,
    FloatParameter,
    IntegerParameter,
    KpiDirection,
    RunContext,
)
from algomancy_data import DataSource


class SpinParameters(BaseParameterSet):
    iterations = IntegerParameter(default=200_000, min=1, max=10**9)
    report_every = IntegerParameter(default=20_000, min=1, max=10**9)


class SleepParameters(BaseParameterSet):
    duration = FloatParameter(default=0.2, min=0.0, max=60.0)


class CountResult(BaseResult):
    """A result of its own class: it must travel back from a worker intact."""

    def __init__(self, values: dict[str, Any], rows: int) -> None:
        super().__init__(values)
        self.rows = rows


class Spin(BaseAlgorithm):
    """CPU-bound pure Python: holds the GIL, reports every `report_every` iterations."""

    name = "Spin"
    parameters = SpinParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        n, every = self.params.iterations, self.params.report_every
        total = 0
        for i in range(n):
            total = (total + i * i) % 1_000_003
            if i % every == 0:
                ctx.progress(i / n, f"iteration {i}")
        ctx.progress(1.0, "done")
        return CountResult({"iterations": n, "checksum": total}, rows=data_rows(data))


class Sleeper(BaseAlgorithm):
    """Waits `duration` seconds, reporting progress every 0.05 s."""

    name = "Sleeper"
    parameters = SleepParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        duration = self.params.duration
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < duration:
            ctx.progress(elapsed / duration, f"sleeping in process {os.getpid()}")
            time.sleep(0.05)
        ctx.progress(1.0, "awake")
        return CountResult({"slept": duration, "pid": os.getpid()}, rows=data_rows(data))


class Raises(BaseAlgorithm):
    name = "Raises"
    parameters = SleepParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        ctx.progress(0.5, "about to fail")
        raise ValueError("the solver diverged on purpose")


class Crashes(BaseAlgorithm):
    """Kills the process it runs in, like a segfaulting extension would."""

    name = "Crashes"
    parameters = SleepParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        ctx.progress(0.1, "crashing")
        time.sleep(self.params.duration)
        os._exit(3)


class Rows(BaseKPI):
    name = "rows"
    unit = "rows"
    direction = KpiDirection.HIGHER

    def compute(self, result: BaseResult) -> float:
        return float(result.rows if isinstance(result, CountResult) else 0)


def data_rows(data: DataSource) -> int:
    return sum(len(data.get_table(name)) for name in data.list_tables())


def items() -> DataSource:
    return DataSource("Master data", tables={"items": pd.DataFrame({"qty": [1, 2, 3]})})


class Niceness(BaseAlgorithm):
    """Reports the CPU priority (niceness) of the process it runs in."""

    name = "Niceness"

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        return BaseResult({"niceness": os.nice(0)})


class TraceEcho(BaseAlgorithm):
    """Gives back the trace context it got, the OpenTelemetry span context current
    while it runs (as W3C `traceparent`, if OpenTelemetry is installed) and its pid."""

    name = "TraceEcho"

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        current: dict[str, str] = {}
        try:
            from opentelemetry import propagate

            propagate.inject(current)
        except ImportError:
            pass
        return BaseResult({"carried": ctx.trace_context, "current": current, "pid": os.getpid()})


class Marks(BaseAlgorithm):
    """Marks its dataset (a data parameter, and a column added to each table in
    place) and says whether it found it marked: a run that sees its data marked saw
    what an earlier run did to its copy."""

    name = "Marks"

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        found = "marked" in data.data_parameters
        data.data_parameters["marked"] = True
        for name in data.list_tables():
            table = data.get_table(name)
            found = found or "marked" in table.columns
            table["marked"] = True
        return BaseResult({"found": found, "pid": os.getpid(), "rows": data_rows(data)})


class ReportsOnce(BaseAlgorithm):
    """Reports progress once, at once, then waits `duration` seconds without another
    report (looking at `ctx.cancelled` every 0.05 s)."""

    name = "ReportsOnce"
    parameters = SleepParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        ctx.progress(0.5, "reported once")
        deadline = time.monotonic() + self.params.duration
        while time.monotonic() < deadline and not ctx.cancelled:
            time.sleep(0.05)
        return BaseResult({"slept": self.params.duration})
