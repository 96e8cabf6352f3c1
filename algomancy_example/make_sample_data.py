"""Write the sample files of the example domain: ``data/sku_data.csv`` and ``data/inventory.xlsx``.

Deterministic (seeded), so running it again gives the same files::

    python -m algomancy_example.make_sample_data

The warehouse has 8 aisles of 10 bays with 3 levels (240 pick locations) and holds
200 SKUs. Demand is skewed as in most warehouses: a fifth of the SKUs take most of
the picks. The as-is slotting in the ``stock`` sheet groups SKUs by product family,
one family after another from the front aisles backwards, ignoring demand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = 20240611
SKU_COUNT = 200
#: SKUs at the end of the list that are not in stock yet (no location in the as-is slotting).
NEW_SKUS = 4
AISLES, BAYS, LEVELS = 8, 10, 3
#: Litres a location holds, by level: floor level for bulky stock, the top shelf small.
CAPACITY_BY_LEVEL = {1: 480.0, 2: 320.0, 3: 200.0}
FAMILIES = {
    "beverages": ("Sparkling water", "Orange juice", "Cola", "Iced tea", "Lemonade"),
    "snacks": ("Potato crisps", "Salted peanuts", "Chocolate bar", "Biscuits", "Pretzels"),
    "household": ("Dish soap", "Kitchen roll", "Bin bags", "Sponges", "Washing powder"),
    "personal care": ("Shampoo", "Toothpaste", "Hand soap", "Deodorant", "Shower gel"),
    "pantry": ("Pasta", "Rice", "Tomato sauce", "Olive oil", "Breakfast cereal"),
    "pet": ("Dog food", "Cat litter", "Cat food", "Dog treats", "Bird seed"),
}


def locations() -> pd.DataFrame:
    """Pick locations and their walking distance from the depot (one way)."""
    rows = []
    for aisle in range(1, AISLES + 1):
        for bay in range(1, BAYS + 1):
            for level in range(1, LEVELS + 1):
                # Walk along the front cross-aisle to the aisle, then into it; a higher
                # level costs a little extra (reaching, a step ladder).
                distance = 4.0 + (aisle - 1) * 3.5 + (bay - 0.5) * 1.4 + (level - 1) * 0.8
                rows.append(
                    {
                        "location": f"A{aisle:02d}-B{bay:02d}-L{level}",
                        "aisle": aisle,
                        "bay": bay,
                        "level": level,
                        "distance_m": round(distance, 1),
                        "capacity_l": CAPACITY_BY_LEVEL[level],
                    }
                )
    return pd.DataFrame(rows)


def skus(rng: np.random.Generator) -> pd.DataFrame:
    """The SKU master: family, weight, demand (picks per day) and unit volume."""
    family_names = list(FAMILIES)
    family = rng.choice(family_names, size=SKU_COUNT)
    rows = []
    for i, fam in enumerate(family):
        product = FAMILIES[str(fam)][int(rng.integers(len(FAMILIES[str(fam)])))]
        size = ("small", "medium", "large")[int(rng.integers(3))]
        volume = {"small": 0.4, "medium": 1.2, "large": 3.0}[size] * rng.uniform(0.7, 1.3)
        rows.append(
            {
                "sku": f"SKU{i + 1:04d}",
                "description": f"{product}, {size}",
                "family": str(fam),
                "weight_kg": round(volume * rng.uniform(0.3, 1.1), 2),
                # Lognormal demand: a few fast movers, a long tail of slow ones.
                "picks_per_day": round(float(rng.lognormal(mean=1.6, sigma=1.1)), 1),
                "unit_volume_l": round(volume, 2),
            }
        )
    return pd.DataFrame(rows)


def stock(rng: np.random.Generator, sku: pd.DataFrame, loc: pd.DataFrame) -> pd.DataFrame:
    """On-hand quantities and the as-is slotting (grouped by family, not by demand)."""
    # One to three weeks of demand on hand in whole cases of 6, at most what fits
    # the largest location.
    days = rng.uniform(7.0, 21.0, size=len(sku))
    quantity = np.maximum(6, np.ceil(sku["picks_per_day"].to_numpy() * days / 6) * 6)
    largest = max(CAPACITY_BY_LEVEL.values())
    quantity = np.minimum(quantity, np.floor(largest / sku["unit_volume_l"].to_numpy()))
    frame = pd.DataFrame({"sku": sku["sku"], "quantity": quantity.astype(int)})
    volume = frame["quantity"] * sku["unit_volume_l"]
    # The newest SKUs have no stock and no location yet.
    frame = frame.iloc[: len(sku) - NEW_SKUS]
    order = sku.iloc[: len(sku) - NEW_SKUS].sort_values(["family", "sku"]).index
    free = loc.sort_values(["aisle", "bay", "level"]).reset_index(drop=True)
    taken = np.zeros(len(free), dtype=bool)
    slot: dict[int, str] = {}
    for index in order:
        fits = np.flatnonzero(~taken & (free["capacity_l"].to_numpy() >= volume[index]))
        slot[int(index)] = str(free.loc[fits[0], "location"])
        taken[fits[0]] = True
    frame["location"] = [slot[i] for i in frame.index]
    return frame[["sku", "location", "quantity"]]


def write(directory: Path = DATA_DIR) -> list[Path]:
    """Write ``sku_data.csv`` and ``inventory.xlsx`` into `directory`; their paths."""
    rng = np.random.default_rng(SEED)
    loc = locations()
    sku = skus(rng)
    stk = stock(rng, sku, loc)
    directory.mkdir(parents=True, exist_ok=True)
    sku_path, inventory_path = directory / "sku_data.csv", directory / "inventory.xlsx"
    sku.to_csv(sku_path, index=False)
    with pd.ExcelWriter(inventory_path, engine="openpyxl") as writer:
        stk.to_excel(writer, sheet_name="stock", index=False)
        loc.to_excel(writer, sheet_name="locations", index=False)
    return [sku_path, inventory_path]


def main() -> None:
    paths = write()
    print("wrote " + ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
