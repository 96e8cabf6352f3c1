"""The example's algorithms: the as-is slotting (slowly), random slotting, ABC slotting,
batch picking (ABC slotting with knobs, for experiments) and iterative descent
(`descent`: intermediate values, for studies that prune)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from algomancy_core import (
    BaseAlgorithm,
    BaseParameterSet,
    BaseResult,
    EnumParameter,
    FloatParameter,
    IntegerParameter,
    RunContext,
)
from algomancy_data import DataSource
from algomancy_data.lazy import lazy_module
from algomancy_example.descent import IterativeDescent
from algomancy_example.views import VIEWS
from algomancy_example.warehouse import (
    Warehouse,
    batch_travel_factor,
    closest_first_slotting,
    evaluate,
    random_slotting,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    # Imported when a run or an upload first needs them: a server restarted over its
    # data starts without pandas (`algomancy_data.lazy`).
    np = lazy_module("numpy")
    pd = lazy_module("pandas")


TICK_SECONDS = 0.1
DEFAULT_SPEED_M_S = 1.0


def _speed() -> FloatParameter:
    return FloatParameter(
        default=DEFAULT_SPEED_M_S,
        min=0.1,
        max=5.0,
        description="Walking speed of a picker in m/s; turns travel metres into seconds",
    )


class SlowParameters(BaseParameterSet):
    duration = IntegerParameter(
        default=1, min=1, max=60, description="How long the run takes, in seconds"
    )


class Slow(BaseAlgorithm):
    """Evaluates the as-is slotting of the stock sheet, taking `duration` seconds.

    Reports progress every second. On a dataset without the warehouse tables it only
    counts the rows of every table, so it runs on any dataset.
    """

    name = "Slow"
    description = (
        "Evaluates the current slotting (the stock sheet) and takes `duration` seconds "
        "doing so, reporting progress every second"
    )
    parameters = SlowParameters
    views = VIEWS
    params: SlowParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        duration: int = self.params.duration
        started = time.monotonic()
        ctx.progress(0.0, f"0/{duration} s")
        ticks_per_second = round(1 / TICK_SECONDS)
        for tick in range(1, duration * ticks_per_second + 1):
            # Sleep to a fixed schedule so the run lasts `duration`, not more.
            time.sleep(max(0.0, started + tick * TICK_SECONDS - time.monotonic()))
            ctx.check_cancelled()
            if tick % ticks_per_second == 0:
                second = tick // ticks_per_second
                ctx.progress(second / duration, f"{second}/{duration} s")
        run_seconds = time.monotonic() - started
        if not all(name in data for name in ("sku_data", "stock", "locations")):
            rows = sum(len(data.get_table(name)) for name in data.list_tables())
            return BaseResult(
                {
                    "algorithm": self.name,
                    "items_processed": rows,
                    "run_seconds": round(run_seconds, 3),
                }
            )
        warehouse = Warehouse.from_data(data)
        return evaluate(
            warehouse,
            warehouse.current,
            algorithm=self.name,
            travel_speed_m_s=DEFAULT_SPEED_M_S,
            run_seconds=run_seconds,
        )


class RandomSlottingParameters(BaseParameterSet):
    seed = IntegerParameter(
        default=0, min=0, max=2**31 - 1, description="Seed of the random generator"
    )
    travel_speed_m_s = _speed()


class RandomSlotting(BaseAlgorithm):
    """Each SKU gets a random free location that holds its stock: the baseline."""

    name = "Random slotting"
    description = "Puts every SKU in a random free location that holds its stock (a baseline)"
    parameters = RandomSlottingParameters
    views = VIEWS
    params: RandomSlottingParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        started = time.monotonic()
        ctx.progress(0.0, "reading the warehouse")
        warehouse = Warehouse.from_data(data)
        ctx.progress(0.3, "assigning SKUs at random")
        assignment = random_slotting(warehouse, self.params.seed)
        ctx.progress(0.8, "measuring travel")
        result = evaluate(
            warehouse,
            assignment,
            algorithm=self.name,
            travel_speed_m_s=self.params.travel_speed_m_s,
            run_seconds=time.monotonic() - started,
            extra={"seed": self.params.seed},
        )
        ctx.progress(1.0, "done")
        return result


POLICIES = {
    "turnover": "every SKU by its own demand, fastest mover closest",
    "class_based": "A, B and C classes (80/15/5 % of the picks), random order within a class",
}
#: Cumulative share of the picks that ends the A and the B class.
CLASS_LIMITS = (0.80, 0.95)


def abc_classes(picks_per_day: pd.Series) -> pd.Series:
    """The class of each SKU ("A", "B" or "C"): A covers the first 80 % of the picks,
    B the next 15 %."""
    ranked = picks_per_day.sort_values(ascending=False, kind="stable")
    total = float(ranked.sum()) or 1.0
    share_before = (ranked.cumsum() - ranked) / total
    classes = pd.Series("C", index=ranked.index)
    classes[share_before < CLASS_LIMITS[1]] = "B"
    classes[share_before < CLASS_LIMITS[0]] = "A"
    return classes.reindex(picks_per_day.index)


class ABCSlottingParameters(BaseParameterSet):
    policy = EnumParameter(
        choices=list(POLICIES),
        default="turnover",
        description="How SKUs are ranked for the closest locations: "
        + "; ".join(f"{k}: {v}" for k, v in POLICIES.items()),
    )
    travel_speed_m_s = _speed()


class ABCSlotting(BaseAlgorithm):
    """Fast movers first: the SKUs picked most get the closest locations."""

    name = "ABC slotting"
    description = (
        "Fast movers first: SKUs ranked by demand (each on its own, or by A/B/C class) "
        "take the closest free location that holds their stock"
    )
    parameters = ABCSlottingParameters
    views = VIEWS
    params: ABCSlottingParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        started = time.monotonic()
        ctx.progress(0.0, "reading the warehouse")
        warehouse = Warehouse.from_data(data)
        picks = warehouse.skus["picks_per_day"]
        classes = abc_classes(picks)
        priority = picks
        if self.params.policy == "class_based":
            # Within a class the order is arbitrary (here: a fixed shuffle).
            rank = classes.map({"A": 3.0, "B": 2.0, "C": 1.0}).astype("float64")
            jitter = np.random.default_rng(0).uniform(0.0, 0.5, size=len(picks))
            priority = rank + jitter
        ctx.progress(0.3, f"assigning SKUs: {POLICIES[self.params.policy]}")
        assignment = closest_first_slotting(warehouse, priority)
        ctx.progress(0.8, "measuring travel")
        counts = classes.value_counts()
        result = evaluate(
            warehouse,
            assignment,
            algorithm=self.name,
            travel_speed_m_s=self.params.travel_speed_m_s,
            run_seconds=time.monotonic() - started,
            extra={
                "policy": self.params.policy,
                **{f"class_{c.lower()}_skus": int(counts.get(c, 0)) for c in "ABC"},
            },
        )
        ctx.progress(1.0, "done")
        return result


class BatchPickingParameters(BaseParameterSet):
    batch_size = IntegerParameter(
        default=1,
        min=1,
        max=12,
        description="Picks per tour: a tour walks to the farthest pick of its batch and back",
    )
    fill_limit = FloatParameter(
        default=1.0,
        min=0.5,
        max=1.0,
        description="Share of each location's capacity a SKU's stock may fill; "
        "SKUs that fit nowhere are picked from the overflow area",
    )
    travel_speed_m_s = _speed()
    start_hour = IntegerParameter(
        default=6,
        min=5,
        max=10,
        description="Hour the picking shift starts (the model has no time of day: "
        "no KPI responds to it)",
    )


class BatchPicking(BaseAlgorithm):
    """ABC (turnover) slotting picked in batches: the example's knobs for experiments.

    `batch_size` shortens the walk per pick with diminishing returns (a tour walks to
    the farthest of its picks), `fill_limit` leaves SKUs without a location that
    fits (they go to the overflow area), `travel_speed_m_s` turns metres into
    seconds (throughput only), and `start_hour` changes nothing.
    """

    name = "Batch picking"
    description = (
        "ABC slotting picked in batches: the batch size, the locations' fill limit "
        "and the walking speed move the KPIs; the shift's start hour does not"
    )
    parameters = BatchPickingParameters
    views = VIEWS
    params: BatchPickingParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        started = time.monotonic()
        p = self.params
        ctx.progress(0.0, "reading the warehouse")
        full = Warehouse.from_data(data)
        limited = full.with_capacity_share(p.fill_limit)
        ctx.progress(0.3, "assigning SKUs: fastest movers closest")
        assignment = closest_first_slotting(limited, limited.skus["picks_per_day"])
        ctx.progress(0.8, "measuring travel")
        single = evaluate(
            full,
            assignment,
            algorithm=self.name,
            travel_speed_m_s=p.travel_speed_m_s,
            run_seconds=time.monotonic() - started,
            extra={"batch_size": p.batch_size, "fill_limit": p.fill_limit},
        )
        result = single.batched(batch_travel_factor(single.tables()["assignment"], p.batch_size))
        ctx.progress(1.0, "done")
        return result


ALGORITHMS: list[type[BaseAlgorithm]] = [
    Slow,
    RandomSlotting,
    ABCSlotting,
    BatchPicking,
    IterativeDescent,
]
