"""A domain for the decision tests: one KPI per direction, values set by parameters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from algomancy_core import (
    BaseAlgorithm,
    BaseKPI,
    BaseParameterSet,
    BaseResult,
    BooleanParameter,
    FloatParameter,
    KpiDirection,
    RunContext,
    ScenarioRecord,
    ScenarioStatus,
    StringParameter,
)
from algomancy_data import DataSource


class FixedParameters(BaseParameterSet):
    profit = FloatParameter(default=100.0)
    cost = FloatParameter(default=50.0)
    service = FloatParameter(default=0.95)
    delay = FloatParameter(default=2.0)
    label = StringParameter(default="plain")
    fail = BooleanParameter(default=False)


class Fixed(BaseAlgorithm):
    """Returns its parameters as the result (or fails when `fail`)."""

    name = "Fixed"
    parameters = FixedParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        p = self.params
        if p.fail:
            raise RuntimeError("asked to fail")
        values = {"profit": p.profit, "cost": p.cost, "service": p.service, "delay": p.delay}
        return BaseResult(values, tables={"lines": pd.DataFrame({"kpi": list(values)})})


def _kpi(kpi_name: str, kpi_unit: str, kpi_direction: KpiDirection, limit: Any) -> type[BaseKPI]:
    class Kpi(BaseKPI):
        name = kpi_name
        unit = kpi_unit
        direction = kpi_direction
        threshold = limit

        def compute(self, result: BaseResult) -> float:
            return float(result.values[kpi_name])

    Kpi.__name__ = kpi_name.title()
    return Kpi


Profit = _kpi("profit", "EUR", KpiDirection.HIGHER, None)
Cost = _kpi("cost", "EUR", KpiDirection.LOWER, None)
Service = _kpi("service", "%", KpiDirection.AT_LEAST, 0.9)
Delay = _kpi("delay", "days", KpiDirection.AT_MOST, 3.0)
KPIS = [Profit, Cost, Service, Delay]


def items() -> DataSource:
    return DataSource("Master data", tables={"items": pd.DataFrame({"qty": [1, 2, 3]})})


def decisions_config() -> dict[str, Any]:
    """`ApiConfiguration` values for this domain."""
    return {
        "algorithms": [Fixed],
        "kpis": KPIS,
        "initial_datasets": lambda: {"Master data": items()},
    }


def complete_records(session_id: str, count: int) -> list[ScenarioRecord]:
    """`count` complete scenarios of `Fixed` with varied KPI values, to write straight
    into a store (benchmarks and browser tests at scale: running them is not what
    they measure)."""
    now = datetime.now(UTC)
    records = []
    for n in range(count):
        kpis = {
            "profit": 100.0 + (n * 37) % 101,
            "cost": 50.0 + (n * 53) % 47,
            "service": 0.85 + (n % 7) / 50,
            "delay": 1.0 + n % 5,
        }
        params = {"profit": kpis["profit"], "cost": kpis["cost"], "label": f"variant {n % 3}"}
        records.append(
            ScenarioRecord(
                id=str(uuid.uuid4()),
                session_id=session_id,
                tag=f"scenario-{n:04d}",
                dataset_key="Master data",
                algorithm="Fixed",
                parameters=params,
                status=ScenarioStatus.COMPLETE,
                progress=1.0,
                result=dict(kpis),
                kpis=kpis,  # type: ignore[arg-type]
                finished_at=now,
            )
        )
    return records
