"""Oven planning: fill the ovens with batches, most valuable first, until the shift ends."""

import math

import pandas as pd

from algomancy_core import (
    BaseAlgorithm,
    BaseParameterSet,
    BaseResult,
    EnumParameter,
    FloatParameter,
    IntegerParameter,
    ResultView,
    RunContext,
)
from algomancy_data import DataSource


class OvenPlanParameters(BaseParameterSet):
    ovens = IntegerParameter(default=2, min=1, max=6, description="Ovens in use")
    shift_hours = FloatParameter(default=6.0, min=1.0, max=12.0, description="Oven hours")
    priority = EnumParameter(
        choices=["margin", "volume"],
        default="margin",
        description="Which products get oven time first: the most margin per oven "
        "minute, or the most units ordered",
    )


class OvenPlan(BaseAlgorithm):
    """Each batch goes into the oven that is free first, products in priority order."""

    name = "Oven plan"
    description = "Plans today's batches over the ovens until the shift ends"
    parameters = OvenPlanParameters
    params: OvenPlanParameters
    # Drawn in the web app: the units each oven bakes, one bar colour per product.
    views = [
        ResultView(
            "units-per-oven",
            "Units per oven",
            kind="bar",
            table="plan",
            encoding={"x": "oven", "y": "units", "series": "product"},
            aggregate="sum",
            unit="units",
        )
    ]

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        products = data.get_table("products").set_index("product")
        factor = float(data.data_parameters.get("demand_factor", 1.0))
        demand = data.get_table("demand").set_index("product")["quantity"] * factor
        if self.params.priority == "margin":
            value = products["margin_eur"] * products["batch_size"] / products["bake_minutes"]
        else:
            value = demand.reindex(products.index, fill_value=0)
        order = value.sort_values(ascending=False, kind="stable").index
        free_at = [0.0] * self.params.ovens  # minute at which each oven is free
        shift = self.params.shift_hours * 60
        plan, delivered = [], {}
        for done, product in enumerate(order):
            ctx.progress(done / len(order), f"planning {product}")
            wanted = float(demand.get(product, 0.0))
            size, minutes = products.loc[product, ["batch_size", "bake_minutes"]]
            baked = 0
            for _ in range(math.ceil(wanted / size)):
                oven = min(range(len(free_at)), key=free_at.__getitem__)
                if free_at[oven] + minutes > shift:
                    break  # no oven finishes another batch before the shift ends
                plan.append((oven + 1, free_at[oven], free_at[oven] + minutes, product, size))
                free_at[oven] += minutes
                baked += size
            delivered[product] = min(baked, wanted)
        ctx.progress(1.0, "done")
        margin = sum(delivered[p] * products.loc[p, "margin_eur"] for p in delivered)
        table = pd.DataFrame(plan, columns=["oven", "start_min", "end_min", "product", "units"])
        return BaseResult(
            {
                "demand_units": round(float(demand.sum()), 1),
                "delivered_units": round(sum(delivered.values()), 1),
                "margin_eur": round(float(margin), 2),
                "oven_minutes_used": float(table["end_min"].sub(table["start_min"]).sum()),
                "oven_minutes_available": shift * self.params.ovens,
            },
            {"plan": table},
        )
