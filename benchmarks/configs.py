"""Configurations the benchmarks serve (``--config benchmarks.configs:NAME``).

- `instant_config`: an algorithm that does nothing (to measure the overhead around
  a run) and `Spin`, which keeps one core busy in pure Python for `seconds`,
  reporting progress about 20 times a second. No KPIs, a one-row dataset.
  `Work` does a fixed amount of such work (for speed-up figures).
- `light_config`: `Instant` and a small CSV schema, no initial dataset, importing
  no pandas itself (`benchmarks.rss`: the library's own weight at rest).
- `etl_config`: the schema of the generated 100,000-row CSV of
  `benchmarks/bench_etl.py` (file ``orders.csv``), no initial dataset.
"""

from __future__ import annotations

import time
from typing import Any

from algomancy_core import (
    BaseAlgorithm,
    BaseParameterSet,
    BaseResult,
    FloatParameter,
    IntegerParameter,
    RunContext,
)
from algomancy_data import DataSource, Schema

DATASET = "Master data"


class InstantParameters(BaseParameterSet):
    count = IntegerParameter(default=1, min=0, max=1000)


class Instant(BaseAlgorithm):
    """Returns at once: what is measured around it is the framework's overhead."""

    name = "Instant"
    parameters = InstantParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        ctx.progress(1.0)
        return BaseResult({"count": self.params.count})


class SpinParameters(BaseParameterSet):
    seconds = FloatParameter(default=15.0, min=0.0, max=600.0)


class Spin(BaseAlgorithm):
    """Pure-Python busy work for `seconds` of wall time, holding the GIL."""

    name = "Spin"
    parameters = SpinParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        seconds = float(self.params.seconds)
        start = time.perf_counter()
        next_report = start
        total = 0
        while (now := time.perf_counter()) - start < seconds:
            total += work_unit()
            if now >= next_report:
                ctx.progress((now - start) / seconds, "spinning")
                next_report = now + 0.05
        ctx.progress(1.0, "done")
        return BaseResult({"total": total})


class WorkParameters(BaseParameterSet):
    units = IntegerParameter(default=100, min=1, max=1_000_000)


def work_unit() -> int:
    """One unit of pure-Python work (a few milliseconds)."""
    total = 0
    for i in range(20_000):
        total += i * i % 7
    return total


class Work(BaseAlgorithm):
    """A fixed amount of pure-Python work (`units`), reporting progress as it goes:
    unlike `Spin`, it takes longer when it has to share a core."""

    name = "Work"
    parameters = WorkParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        units = int(self.params.units)
        total = 0
        next_report = time.perf_counter()
        for unit in range(units):
            total += work_unit()
            if (now := time.perf_counter()) >= next_report:
                ctx.progress(unit / units, "working")
                next_report = now + 0.05
        ctx.progress(1.0, "done")
        return BaseResult({"total": total})


def tiny_dataset() -> DataSource:
    import pandas as pd  # here, so that `light_config` imports no pandas

    return DataSource(DATASET, tables={"items": pd.DataFrame({"qty": [1, 2, 3]})})


def initial_datasets() -> dict[str, DataSource]:
    return {DATASET: tiny_dataset()}


def instant_config() -> dict[str, Any]:
    return {
        "title": "Algomancy benchmarks",
        "algorithms": [Instant, Spin, Work],
        "initial_datasets": initial_datasets,
        "max_workers": 2,
    }


def many_sessions_config() -> dict[str, Any]:
    """`instant_config` with room for the 10,000 sessions of `bench_sessions` (the
    default allows 100 per user)."""
    return instant_config() | {"max_sessions_per_user": 100_000}


def orders_schema() -> Schema:
    from benchmarks.bench_etl import COLUMNS

    return Schema("orders", extension="csv", columns=COLUMNS)


def etl_config() -> dict[str, Any]:
    return {
        "title": "Algomancy ETL benchmarks",
        "algorithms": [Instant],
        "schemas": [orders_schema()],
        "initial_datasets": initial_datasets,
    }


def no_metrics_config() -> dict[str, Any]:
    """`instant_config` with metrics off (`bench_ops`: the cost of metrics)."""
    return instant_config() | {"metrics": False}


def light_config() -> dict[str, Any]:
    """`Instant` and the schema of `benchmarks.rss`'s generated CSV; no pandas here."""
    from algomancy_data import Column

    columns = [
        Column("order_id", "integer", primary_key=True),
        Column("sku", "string", nullable=False),
        Column("quantity", "integer"),
        Column("price", "float"),
        Column("order_date", "date"),
    ]
    return {
        "title": "Algomancy light benchmark",
        "algorithms": [Instant],
        "schemas": [Schema("orders", extension="csv", columns=columns)],
    }
