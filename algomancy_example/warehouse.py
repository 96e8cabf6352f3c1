"""The slotting model: which SKU sits in which location, and what that costs in walking.

Pickers walk from the depot to a location and back for every pick (single-command
picking), so a day's travel is ``sum(picks_per_day * 2 * distance_m)``. A SKU without
a location is picked from the overflow area behind the last aisle, 10 m beyond the
farthest location. A SKU needs a location whose capacity holds its stock
(``quantity * unit_volume_l``); a SKU without stock still needs a (any) location.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from algomancy_core import BaseResult
from algomancy_data import DataSource
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    # Imported when a run or an upload first needs them: a server restarted over its
    # data starts without pandas (`algomancy_data.lazy`).
    np = lazy_module("numpy")
    pd = lazy_module("pandas")


OVERFLOW_EXTRA_M = 10.0
ASSIGNMENT_COLUMNS = ["sku", "location", "distance_m", "picks_per_day", "need_l", "capacity_l"]
LOCATION_COLUMNS = ["location", "aisle", "bay", "level", "distance_m", "capacity_l"]


class DatasetError(ValueError):
    """The dataset lacks what slotting needs."""


@dataclass(frozen=True)
class Warehouse:
    """SKUs (with demand and the volume they need) and locations, from a dataset."""

    skus: pd.DataFrame
    """sku, picks_per_day, need_l; one row per SKU, in the order of the SKU master."""
    locations: pd.DataFrame
    """location, aisle, bay, level, distance_m, capacity_l; one row per location."""
    current: Mapping[str, str]
    """The as-is slotting: SKU → its closest location in the stock sheet."""

    @classmethod
    def from_data(cls, data: DataSource) -> Warehouse:
        missing = [t for t in ("sku_data", "stock", "locations") if t not in data]
        if missing:
            raise DatasetError(
                f"dataset {data.name!r} lacks the table(s) {', '.join(missing)}; "
                "upload sku_data.csv and inventory.xlsx"
            )
        sku_data = data.get_table("sku_data")
        stock = data.get_table("stock")
        locations = data.get_table("locations")[LOCATION_COLUMNS]
        locations = locations.reset_index(drop=True)
        stock = stock[stock["location"].isin(locations["location"])]
        held = stock.groupby("sku", sort=False)["quantity"].sum()
        skus = pd.DataFrame(
            {
                "sku": sku_data["sku"].astype(str),
                "picks_per_day": sku_data["picks_per_day"].astype("float64")
                * float(data.data_parameters.get("demand_growth", 1.0)),
            }
        )
        quantity = skus["sku"].map(held).fillna(0).astype("float64")
        skus["need_l"] = quantity.to_numpy() * sku_data["unit_volume_l"].to_numpy(dtype=float)
        placed = stock.merge(locations, on="location").sort_values("distance_m", kind="stable")
        first = placed.drop_duplicates("sku")
        current = dict(zip(first["sku"].astype(str), first["location"].astype(str), strict=True))
        return cls(skus.reset_index(drop=True), locations, current)

    def with_capacity_share(self, share: float) -> Warehouse:
        """The same warehouse with each location's capacity times `share`."""
        locations = self.locations.assign(capacity_l=self.locations["capacity_l"] * share)
        return Warehouse(self.skus, locations, self.current)

    @property
    def overflow_distance_m(self) -> float:
        farthest = float(self.locations["distance_m"].max()) if len(self.locations) else 0.0
        return farthest + OVERFLOW_EXTRA_M


class SlottingResult(BaseResult):
    """An evaluated slotting: travel per day and the ``assignment`` table."""

    def batched(self, factor: float) -> SlottingResult:
        """The same slotting picked in batches that walk `factor` times the metres of
        single picks (see `batch_travel_factor`)."""
        values = dict(self.values)
        for key in ("travel_m_per_day", "mean_distance_m", "travel_s_per_day", "travel_h_per_day"):
            values[key] = round(float(values[key]) * factor, 3)
        values["batch_travel_factor"] = round(factor, 6)
        tables = self.tables()
        by_location = tables["travel_by_location"]
        tables["travel_by_location"] = by_location.assign(
            travel_m_per_day=(by_location["travel_m_per_day"] * factor).round(3)
        )
        return SlottingResult(values, tables)


def batch_travel_factor(assignment: pd.DataFrame, batch_size: int) -> float:
    """Metres per pick walked in batches of `batch_size` picks, over those of single
    picks: a tour walks to its farthest pick and back, so a batch of k picks drawn by
    demand walks ``2 E[max of k distances]``, ``E[max] = sum d (F(d)^k - F(d-)^k)``."""
    weights = assignment.groupby("distance_m")["picks_per_day"].sum().sort_index()
    total = float(weights.sum())
    if total <= 0 or batch_size <= 1:
        return 1.0
    distance = weights.index.to_numpy(dtype=float)
    cumulative = np.cumsum(weights.to_numpy(dtype=float)) / total
    before = np.concatenate([[0.0], cumulative[:-1]])
    farthest = float((distance * (cumulative**batch_size - before**batch_size)).sum())
    mean = float((distance * weights.to_numpy(dtype=float)).sum()) / total
    return farthest / batch_size / mean if mean > 0 else 1.0


def evaluate(
    warehouse: Warehouse,
    assignment: Mapping[str, str],
    *,
    algorithm: str,
    travel_speed_m_s: float,
    run_seconds: float,
    extra: Mapping[str, Any] | None = None,
) -> SlottingResult:
    """The travel a slotting (SKU → location; SKUs left out go to overflow) causes."""
    skus = warehouse.skus
    locations = warehouse.locations.set_index("location")
    located = skus["sku"].map(assignment)
    distance = located.map(locations["distance_m"]).astype("float64")
    unassigned = distance.isna()
    distance = distance.fillna(warehouse.overflow_distance_m)
    table = pd.DataFrame(
        {
            "sku": skus["sku"],
            "location": located.fillna("overflow").astype(str),
            "distance_m": distance,
            "picks_per_day": skus["picks_per_day"],
            "need_l": skus["need_l"].round(2),
            "capacity_l": located.map(locations["capacity_l"]).astype("float64"),
        },
        columns=ASSIGNMENT_COLUMNS,
    )
    picks = float(skus["picks_per_day"].sum())
    travel_m = float((skus["picks_per_day"] * 2 * distance).sum())
    travel_s = travel_m / travel_speed_m_s
    values: dict[str, Any] = {
        "algorithm": algorithm,
        "skus": len(skus),
        "assigned": int((~unassigned).sum()),
        "unassigned": int(unassigned.sum()),
        "picks_per_day": round(picks, 3),
        "travel_m_per_day": round(travel_m, 3),
        "mean_distance_m": round(travel_m / picks / 2, 3) if picks else 0.0,
        "travel_speed_m_s": travel_speed_m_s,
        "travel_s_per_day": round(travel_s, 3),
        "travel_h_per_day": round(travel_s / 3600, 3),
        "overflow_distance_m": warehouse.overflow_distance_m,
        "run_seconds": round(run_seconds, 3),
        **(extra or {}),
    }
    return SlottingResult(
        values, {"assignment": table, "travel_by_location": travel_by_location(warehouse, table)}
    )


def travel_by_location(warehouse: Warehouse, assignment: pd.DataFrame) -> pd.DataFrame:
    """One row per location (empty ones too): its place (aisle, bay, level), the SKUs
    it holds, their picks and the metres walked per day to pick them."""
    travel = assignment.assign(travel=assignment["picks_per_day"] * 2 * assignment["distance_m"])
    per_location = travel.groupby("location", sort=False).agg(
        skus=("sku", "count"), picks_per_day=("picks_per_day", "sum"), travel=("travel", "sum")
    )
    table = warehouse.locations[["location", "aisle", "bay", "level", "distance_m"]].copy()
    joined = table["location"].map
    table["skus"] = joined(per_location["skus"]).fillna(0).astype("int64")
    table["picks_per_day"] = joined(per_location["picks_per_day"]).fillna(0.0).round(3)
    table["travel_m_per_day"] = joined(per_location["travel"]).fillna(0.0).round(3)
    return table.reset_index(drop=True)


def random_slotting(warehouse: Warehouse, seed: int) -> dict[str, str]:
    """Each SKU, in random order, gets a random free location that holds its stock."""
    rng = np.random.default_rng(seed)
    capacity = warehouse.locations["capacity_l"].to_numpy(dtype=float)
    names = warehouse.locations["location"].to_numpy()
    free = np.ones(len(capacity), dtype=bool)
    need = warehouse.skus["need_l"].to_numpy(dtype=float)
    skus = warehouse.skus["sku"].to_numpy()
    assignment: dict[str, str] = {}
    for index in rng.permutation(len(skus)):
        fits = np.flatnonzero(free & (capacity >= need[index]))
        if len(fits):
            chosen = int(rng.choice(fits))
            free[chosen] = False
            assignment[str(skus[index])] = str(names[chosen])
    return assignment


def closest_first_slotting(warehouse: Warehouse, priority: pd.Series) -> dict[str, str]:
    """SKUs by descending `priority` each take the closest free location that holds them.

    A location is only taken if the SKUs still waiting can all be placed afterwards
    (counted per capacity class: those that only fit the larger locations must not
    find them used up by small SKUs).
    """
    locations = warehouse.locations.sort_values("distance_m", kind="stable")
    capacity = locations["capacity_l"].to_numpy(dtype=float)
    names = locations["location"].to_numpy()
    free = np.ones(len(capacity), dtype=bool)
    need = warehouse.skus["need_l"].to_numpy(dtype=float)
    skus = warehouse.skus["sku"].to_numpy()
    classes = np.unique(capacity)  # ascending capacities
    # The smallest class each SKU fits; len(classes) when it fits none.
    sku_class = np.searchsorted(classes, need, side="left")
    location_class = np.searchsorted(classes, capacity, side="left")
    waiting = np.bincount(sku_class, minlength=len(classes) + 1)[: len(classes)]
    supply = np.bincount(location_class, minlength=len(classes))
    order = np.argsort(-priority.to_numpy(dtype=float), kind="stable")
    assignment: dict[str, str] = {}
    for index in order:
        own = sku_class[index]
        if own >= len(classes):
            continue
        waiting[own] -= 1
        for position in np.flatnonzero(free & (capacity >= need[index])):
            taken = location_class[position]
            supply[taken] -= 1
            # Hall's condition for nested classes: for every class c, the free
            # locations of class >= c cover the waiting SKUs that need class >= c.
            if np.all(np.cumsum(supply[::-1]) >= np.cumsum(waiting[::-1])):
                free[position] = False
                assignment[str(skus[index])] = str(names[position])
                break
            supply[taken] += 1
    return assignment
