"""ETL speed against plain pandas on the same files.

Generates a 100,000 x 10 CSV and a 20,000-row XLSX in a temporary directory, runs
`DefaultETLFactory` with a matching schema and the fastest plain pandas read of each
file (best of 3 each), and prints the ratios against their targets.

    python benchmarks/bench_etl.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from algomancy_data import Column, CSVFile, DefaultETLFactory, Schema, XLSXFile

CSV_ROWS = 100_000
XLSX_ROWS = 20_000
REPEATS = 3
TARGETS = {"csv": 2.0, "xlsx": 1.5}

COLUMNS = [
    Column("order_id", "integer", primary_key=True),
    Column("sku", "string", nullable=False),
    Column("quantity", "integer"),
    Column("price", "float"),
    Column("weight_kg", "float"),
    Column("warehouse", "category"),
    Column("customer", "string"),
    Column("order_date", "date"),
    Column("shipped_at", "datetime"),
    Column("priority", "integer"),
]


def make_frame(rows: int) -> pd.DataFrame:
    """A mixed int/float/string/date table of `rows` rows."""
    rng = np.random.default_rng(42)
    start = np.datetime64("2024-01-01T00:00:00")
    return pd.DataFrame(
        {
            "order_id": np.arange(rows),
            "sku": [f"SKU-{i:06d}" for i in rng.integers(0, 50_000, rows)],
            "quantity": rng.integers(1, 100, rows),
            "price": rng.random(rows).round(2) * 100,
            "weight_kg": rng.random(rows).round(3) * 20,
            "warehouse": rng.choice(["AMS", "RTM", "EIN", "UTR"], rows),
            "customer": [f"customer {i}" for i in rng.integers(0, 5_000, rows)],
            "order_date": (start + rng.integers(0, 365, rows).astype("timedelta64[D]")).astype(
                "datetime64[D]"
            ),
            "shipped_at": start + rng.integers(0, 365 * 86_400, rows).astype("timedelta64[s]"),
            "priority": rng.integers(1, 4, rows),
        }
    )


def best_of(etl: Callable[[], object], baseline: Callable[[], object]) -> tuple[float, float]:
    """The fastest of `REPEATS` runs of each, in seconds.

    One untimed warm-up run each, then the two alternate, so that both see the same
    machine load (other processes on a shared machine skew back-to-back series).
    """
    etl()
    baseline()
    etl_times, baseline_times = [], []
    for _ in range(REPEATS):
        for func, times in ((etl, etl_times), (baseline, baseline_times)):
            start = time.perf_counter()
            func()
            times.append(time.perf_counter() - start)
    return min(etl_times), min(baseline_times)


def run_etl(factory: DefaultETLFactory, path: Path, file_type: type[CSVFile | XLSXFile]) -> None:
    """One ETL run from the bytes on disk; fails loudly if the ETL did not succeed."""
    result = factory.run([file_type.from_path(path)], "bench")
    if not result.is_success:
        raise SystemExit(f"ETL failed: {[m.message for m in result.errors]}")


def main() -> int:
    """Run both benchmarks and print the table; exit 1 when a target is missed."""
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "orders.csv"
        make_frame(CSV_ROWS).to_csv(csv_path, index=False)
        xlsx_path = Path(tmp) / "orders_book.xlsx"
        make_frame(XLSX_ROWS).to_excel(xlsx_path, index=False, sheet_name="orders")

        csv_factory = DefaultETLFactory([Schema("orders", extension="csv", columns=COLUMNS)])
        xlsx_factory = DefaultETLFactory(
            [Schema("orders_book", extension="xlsx", sheets={"orders": COLUMNS})]
        )
        figures = {
            "csv": best_of(
                lambda: run_etl(csv_factory, csv_path, CSVFile),
                lambda: pd.read_csv(csv_path),
            ),
            "xlsx": best_of(
                lambda: run_etl(xlsx_factory, xlsx_path, XLSXFile),
                lambda: pd.read_excel(xlsx_path, sheet_name=None, engine="calamine"),
            ),
        }

    print(f"{'benchmark':<28}{'ETL (s)':>10}{'baseline (s)':>14}{'ratio':>8}{'target':>8}  ok")
    labels = {
        "csv": f"CSV {CSV_ROWS:,} x 10 / read_csv",
        "xlsx": f"XLSX {XLSX_ROWS:,} x 10 / calamine",
    }
    all_ok = True
    for key, (etl, baseline) in figures.items():
        ratio = etl / baseline
        ok = ratio <= TARGETS[key]
        all_ok &= ok
        print(
            f"{labels[key]:<28}{etl:>10.3f}{baseline:>14.3f}{ratio:>8.2f}"
            f"{TARGETS[key]:>7.1f}x  {'yes' if ok else 'NO'}"
        )
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
