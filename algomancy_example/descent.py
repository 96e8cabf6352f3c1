"""Iterative descent: a random slotting improved move by move, reporting the travel
distance after each iteration (`ctx.report`), so that an optimisation study has a
course to judge and runs to prune."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from algomancy_core import (
    BaseAlgorithm,
    BaseParameterSet,
    BaseResult,
    FloatParameter,
    IntegerParameter,
    RunContext,
)
from algomancy_data import DataSource
from algomancy_data.lazy import lazy_module
from algomancy_example.views import VIEWS
from algomancy_example.warehouse import Warehouse, evaluate, random_slotting

if TYPE_CHECKING:
    import numpy as np
else:  # imported by the first run: the server at rest loads no numpy
    np = lazy_module("numpy")

#: The longest sleep between two looks at the cancel flag while pausing.
PAUSE_SLICE_SECONDS = 0.05
SPEED_M_S = 1.0


class SlottingSearch:
    """A slotting as arrays (SKU → location index, -1 for the overflow area) and the
    random moves that change it: a SKU to another location, swapping places with the
    SKU there, if both fit."""

    def __init__(self, warehouse: Warehouse, start: dict[str, str]) -> None:
        self.warehouse = warehouse
        self.picks = warehouse.skus["picks_per_day"].to_numpy(dtype=float)
        self.need = warehouse.skus["need_l"].to_numpy(dtype=float)
        self.distance = warehouse.locations["distance_m"].to_numpy(dtype=float)
        self.capacity = warehouse.locations["capacity_l"].to_numpy(dtype=float)
        self.names = [str(name) for name in warehouse.locations["location"]]
        self.skus = [str(sku) for sku in warehouse.skus["sku"]]
        index = {name: i for i, name in enumerate(self.names)}
        self.location = [index.get(start.get(sku, ""), -1) for sku in self.skus]
        self.occupant = [-1] * len(self.names)
        for sku, place in enumerate(self.location):
            if place >= 0:
                self.occupant[place] = sku
        self.overflow = warehouse.overflow_distance_m

    def _distance(self, place: int) -> float:
        return float(self.distance[place]) if place >= 0 else self.overflow

    def travel_m(self) -> float:
        """Metres walked per day, as `evaluate` counts them (rounded to the mm)."""
        located = np.array(self.location)
        distance = np.where(located >= 0, self.distance[np.maximum(located, 0)], self.overflow)
        return round(float((self.picks * 2 * distance).sum()), 3)

    def improve(self, rng: np.random.Generator, moves: int, worse_acceptance: float) -> None:
        """Try `moves` random moves; take those that shorten travel, and one that
        lengthens it with probability `worse_acceptance`."""
        if not self.skus or not self.names:
            return
        skus = rng.integers(len(self.skus), size=moves)
        places = rng.integers(len(self.names), size=moves)
        chances = rng.random(moves)
        for sku, place, chance in zip(
            skus.tolist(), places.tolist(), chances.tolist(), strict=True
        ):
            here = self.location[sku]
            if place == here or self.capacity[place] < self.need[sku]:
                continue
            other = self.occupant[place]
            if other >= 0 and (here < 0 or self.capacity[here] < self.need[other]):
                continue  # the SKU there would have nowhere to go
            before, after = self._distance(here), float(self.distance[place])
            delta = self.picks[sku] * (after - before)
            if other >= 0:
                delta += self.picks[other] * (before - after)
            if delta >= 0 and chance >= worse_acceptance:
                continue
            self.location[sku], self.occupant[place] = place, sku
            if here >= 0:
                self.occupant[here] = other
            if other >= 0:
                self.location[other] = here

    def assignment(self) -> dict[str, str]:
        return {
            sku: self.names[place]
            for sku, place in zip(self.skus, self.location, strict=True)
            if place >= 0
        }


class IterativeDescentParameters(BaseParameterSet):
    steps = IntegerParameter(
        default=40,
        min=1,
        max=1000,
        description="Iterations; the travel distance is reported after each",
    )
    moves_per_step = IntegerParameter(
        default=50,
        min=1,
        max=5000,
        description="Random moves tried per iteration (a SKU to another location, "
        "swapping places with the SKU there)",
    )
    worse_acceptance = FloatParameter(
        default=0.0,
        min=0.0,
        max=0.5,
        description="Probability of taking a move that lengthens travel (0: pure descent)",
    )
    seed = IntegerParameter(
        default=0,
        min=0,
        max=2**31 - 1,
        description="Seed of the random start slotting and of the moves",
    )
    step_seconds = FloatParameter(
        default=0.0,
        min=0.0,
        max=5.0,
        description="Pause after each iteration, in seconds: a run that lasts, for "
        "studies that stop (prune) the runs that are not promising",
    )


class IterativeDescent(BaseAlgorithm):
    """A random slotting improved by random moves, iteration by iteration.

    After each iteration it reports the day's travel distance (`ctx.report(value,
    step)`, steps 1 to `steps`); the last value reported is the result's
    `travel_m_per_day`, hence the `travel_distance` KPI. A cancel (or a prune) stops
    it at the next report, or within `PAUSE_SLICE_SECONDS` of a pause.
    """

    name = "Iterative descent"
    description = (
        "Improves a random slotting move by move, reporting the travel distance after "
        "each iteration: something for an optimisation study to prune"
    )
    parameters = IterativeDescentParameters
    views = VIEWS
    params: IterativeDescentParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        started = time.monotonic()
        p = self.params
        ctx.progress(0.0, "reading the warehouse")
        warehouse = Warehouse.from_data(data)
        search = SlottingSearch(warehouse, random_slotting(warehouse, p.seed))
        rng = np.random.default_rng(p.seed)
        for step in range(1, p.steps + 1):
            search.improve(rng, p.moves_per_step, p.worse_acceptance)
            if step < p.steps:
                ctx.report(search.travel_m(), step)
                ctx.progress(step / p.steps, f"iteration {step}/{p.steps}")
                _pause(ctx, p.step_seconds)
        result = evaluate(
            warehouse,
            search.assignment(),
            algorithm=self.name,
            travel_speed_m_s=SPEED_M_S,
            run_seconds=time.monotonic() - started,
            extra={
                "steps": p.steps,
                "moves_per_step": p.moves_per_step,
                "worse_acceptance": p.worse_acceptance,
                "seed": p.seed,
            },
        )
        # The last value reported is the result's (hence the KPI's) travel distance.
        ctx.report(result.values["travel_m_per_day"], p.steps)
        ctx.progress(1.0, "done")
        return result


def _pause(ctx: RunContext, seconds: float) -> None:
    """Sleep `seconds`, stopping early (`RunCancelledError`) once the run is cancelled."""
    deadline = time.monotonic() + seconds
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(PAUSE_SLICE_SECONDS, remaining))
        ctx.check_cancelled()
