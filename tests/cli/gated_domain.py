"""The example with one more algorithm, `Gated`, whose run with `hold=1` goes on until
a file appears (`GATE_ENV` names it; the server's environment sets it): a run the test
kills mid-way without guessing how long a run must take to still be running, and that
ends as soon as the test opens the gate (`tests/cli/test_cli_experiments.py`)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from algomancy_core import BaseAlgorithm, BaseParameterSet, BaseResult, IntegerParameter, RunContext
from algomancy_data import DataSource
from algomancy_example.algorithms import ALGORITHMS, DEFAULT_SPEED_M_S
from algomancy_example.domain import example_settings
from algomancy_example.warehouse import Warehouse, evaluate

#: The environment variable naming the file whose existence opens the gate.
GATE_ENV = "ALGOMANCY_TEST_GATE"


class GatedParameters(BaseParameterSet):
    hold = IntegerParameter(default=0, min=0, max=1, description="1: wait for the gate")


class Gated(BaseAlgorithm):
    """Evaluates the as-is slotting (as `Slow` does): at once, or with `hold=1` once
    the gate file exists."""

    name = "Gated"
    parameters = GatedParameters
    params: GatedParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        gate = Path(os.environ[GATE_ENV])
        while self.params.hold and not gate.exists():
            ctx.check_cancelled()
            time.sleep(0.05)
        warehouse = Warehouse.from_data(data)
        return evaluate(
            warehouse,
            warehouse.current,
            algorithm=self.name,
            travel_speed_m_s=DEFAULT_SPEED_M_S,
            run_seconds=0.0,
        )


def settings() -> dict[str, Any]:
    return example_settings(algorithms=[*ALGORITHMS, Gated])
