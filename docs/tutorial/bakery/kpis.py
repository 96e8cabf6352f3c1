"""What the bakery compares plans by: orders filled, margin earned, ovens used."""

from algomancy_core import BaseKPI, BaseResult, KpiDirection


class FillRate(BaseKPI):
    name = "fill_rate"
    unit = "%"
    direction = KpiDirection.AT_LEAST
    threshold = 95  # below 95 % of the units ordered, customers go elsewhere
    description = "Share of the units ordered that are baked in time"

    def compute(self, result: BaseResult) -> float:
        demand = result.values["demand_units"]
        return 100.0 * result.values["delivered_units"] / demand if demand else 100.0


class Margin(BaseKPI):
    name = "margin"
    unit = "EUR"
    direction = KpiDirection.HIGHER
    description = "Margin of the units delivered"

    def compute(self, result: BaseResult) -> float:
        return result.values["margin_eur"]


class OvenUse(BaseKPI):
    name = "oven_use"
    unit = "%"
    direction = KpiDirection.HIGHER
    description = "Share of the ovens' shift time spent baking"

    def compute(self, result: BaseResult) -> float:
        used, available = (
            result.values[k] for k in ("oven_minutes_used", "oven_minutes_available")
        )
        return 100.0 * used / available
