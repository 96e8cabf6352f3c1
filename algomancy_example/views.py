"""How the example's results are drawn: a heat map of pick travel by location."""

from __future__ import annotations

from algomancy_core import ResultView

TRAVEL_HEATMAP = ResultView(
    "travel-heatmap",
    "Pick travel by location",
    kind="heatmap",
    table="travel_by_location",
    # Aisles across, bays up; the levels of a bay are added together.
    encoding={"x": "aisle", "y": "bay", "value": "travel_m_per_day"},
    aggregate="sum",
    unit="m/day",
    description="Metres walked per day to pick from each bay (all its levels), by aisle",
)

TRAVEL_BY_AISLE = ResultView(
    "travel-by-aisle",
    "Pick travel per aisle",
    kind="bar",
    table="travel_by_location",
    encoding={"x": "aisle", "y": "travel_m_per_day"},
    aggregate="sum",
    unit="m/day",
    description="Metres walked per day to pick from each aisle",
)

VIEWS = (TRAVEL_HEATMAP, TRAVEL_BY_AISLE)
