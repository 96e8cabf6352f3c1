"""The browser tests' domain with room for a 10,000-point experiment, and a no-op
algorithm whose KPIs respond to its two knobs (the example's KPIs read its result)."""

from __future__ import annotations

from typing import Any

from algomancy_core import (
    BaseAlgorithm,
    BaseParameterSet,
    BaseResult,
    FloatParameter,
    IntegerParameter,
    RunContext,
)
from algomancy_data import DataSource
from tests.webapp.domain import settings as base_settings

POINTS = 10_000


class KnobParameters(BaseParameterSet):
    speed = FloatParameter(default=1.0, min=0.5, max=5.0)
    crews = IntegerParameter(default=2, min=1, max=8)


class NoOp(BaseAlgorithm):
    """Returns at once: travel grows with speed, picks with crews."""

    name = "No-op knobs"
    parameters = KnobParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        p = self.params
        travel_m = 1000.0 * p.speed + 37.0 * p.crews
        return BaseResult(
            {
                "travel_m_per_day": travel_m,
                "travel_s_per_day": travel_m / 1.2,
                "picks_per_day": 400.0 * p.crews,
            }
        )


def settings() -> dict[str, Any]:
    values = base_settings()
    return values | {
        "algorithms": [*values["algorithms"], NoOp],
        "max_experiment_scenarios": POINTS,
        "max_scenarios_per_session": POINTS + 100,
    }
