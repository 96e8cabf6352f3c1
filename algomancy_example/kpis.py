"""The example's KPIs. Each gives a finite number for every algorithm's result."""

from __future__ import annotations

from algomancy_core import BaseKPI, BaseResult, KpiDirection


class Throughput(BaseKPI):
    """Picks per second of picker travel; for a run without warehouse data (Slow on
    another dataset), rows processed per second of run time."""

    name = "throughput"
    unit = "items/s"
    direction = KpiDirection.HIGHER
    description = "Picks per second of walking: what one picker sustains if travel is all"

    def compute(self, result: BaseResult) -> float:
        values = result.values
        travel_s = float(values.get("travel_s_per_day") or 0.0)
        if travel_s > 0:
            return float(values["picks_per_day"]) / travel_s
        run_seconds = float(values.get("run_seconds") or 0.0)
        if run_seconds > 0:
            return float(values.get("items_processed", 0)) / run_seconds
        return 0.0


class TravelDistance(BaseKPI):
    """Metres walked per day to pick the day's demand (depot → location → depot)."""

    name = "travel_distance"
    unit = "m/day"
    # Shown in km/day once it is over 1000 m/day; the value stays in m/day.
    quantity = "length"
    direction = KpiDirection.LOWER
    description = "Metres walked per day, depot to location and back for every pick"

    def compute(self, result: BaseResult) -> float:
        return float(result.values.get("travel_m_per_day", 0.0))


class UnassignedSkus(BaseKPI):
    """SKUs without a location (picked from the overflow area); should be none."""

    name = "unassigned_skus"
    unit = "SKUs"
    direction = KpiDirection.AT_MOST
    threshold = 0
    description = "SKUs without a pick location, picked from the overflow area"

    def compute(self, result: BaseResult) -> float:
        return float(result.values.get("unassigned", 0))


KPIS: list[type[BaseKPI]] = [Throughput, TravelDistance, UnassignedSkus]
