"""Algorithms, KPIs and managers for the core tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pandas as pd
import pytest

from algomancy_core import (
    BaseAlgorithm,
    BaseKPI,
    BaseParameterSet,
    BaseResult,
    CoreConfig,
    IntegerParameter,
    KpiDirection,
    RunContext,
    SessionManager,
)
from algomancy_data import DataSource


class CountParameters(BaseParameterSet):
    count = IntegerParameter(default=3, min=0, max=1000)


class Instant(BaseAlgorithm):
    """Sums a table column at once."""

    name = "Instant"
    parameters = CountParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        total = int(data.get_table("items")["qty"].sum())
        ctx.progress(1.0, "done")
        return BaseResult({"total": total, "count": self.params.count})


class Gate:
    """Lets a test hold runs of `Gated` until it opens the gate."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()


GATE = Gate()


class Gated(BaseAlgorithm):
    """Reports progress, then waits for the test's gate, reporting while it waits."""

    name = "Gated"
    parameters = CountParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        ctx.progress(0.5, "waiting at the gate")
        GATE.started.set()
        while not GATE.release.wait(0.01):
            ctx.progress(0.5, "waiting at the gate")
        return BaseResult({"total": 1, "count": self.params.count})


class Broken(BaseAlgorithm):
    name = "Broken"
    parameters = CountParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        raise RuntimeError("the solver diverged")


class Total(BaseKPI):
    name = "total"
    unit = "items"
    direction = KpiDirection.HIGHER
    threshold = 0

    def compute(self, result: BaseResult) -> float:
        return float(result.values["total"])


def items() -> DataSource:
    return DataSource("Master data", tables={"items": pd.DataFrame({"qty": [1, 2, 3]})})


def make_config(**overrides: object) -> CoreConfig:
    values: dict[str, object] = {
        "algorithms": [Instant, Gated, Broken],
        "kpis": [Total],
        "initial_datasets": lambda: {"Master data": items()},
        "max_workers": 2,
    }
    values.update(overrides)
    return CoreConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def gate() -> Iterator[Gate]:
    global GATE
    GATE.release.set()
    GATE = Gate()
    yield GATE
    GATE.release.set()


@pytest.fixture
def sessions() -> Iterator[SessionManager]:
    with SessionManager(make_config()) as manager:
        yield manager
