"""Algorithms that report intermediate values (`ctx.report`), for the report and
prune tests. Worker processes import them by module path: an ordinary module."""

from __future__ import annotations

import time

from algomancy_core import (
    BaseAlgorithm,
    BaseParameterSet,
    BaseResult,
    EnumParameter,
    IntegerParameter,
    RunContext,
)
from algomancy_data import DataSource

#: The longest a `Descending` run lasts when nothing stops it: a guard, not a timing.
DESCENDING_SECONDS = 120.0


def value_at(step: int) -> float:
    """The value `Reporter` reports at `step`."""
    return 100.0 / (step + 1)


class ReportParameters(BaseParameterSet):
    steps = IntegerParameter(default=5, min=0, max=1_000_000)
    last = EnumParameter(
        choices=["fine", "nan", "same_step", "text"],
        default="fine",
        description="What it reports after its steps: nothing more, or a bad report",
    )


class Reporter(BaseAlgorithm):
    """Reports `value_at(step)` for steps 0 to `steps - 1`, then maybe a bad report."""

    name = "Reporter"
    parameters = ReportParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        steps = self.params.steps
        for step in range(steps):
            ctx.report(value_at(step), step)
        last = self.params.last
        if last == "nan":
            ctx.report(float("nan"), steps)
        elif last == "same_step":
            ctx.report(1.0, steps - 1)
        elif last == "text":
            ctx.report("1.5", steps)  # type: ignore[arg-type]
        return BaseResult({"total": steps})


class Descending(BaseAlgorithm):
    """Reports a falling value every 10 ms until it is stopped."""

    name = "Descending"

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        deadline = time.monotonic() + DESCENDING_SECONDS
        step = 0
        while time.monotonic() < deadline:
            ctx.report(1000.0 / (step + 1), step)
            step += 1
            time.sleep(0.01)
        return BaseResult({"total": step})
