"""ETL upload and dataset download over HTTP (issue 7 figures 4 and 5).

4. ``POST …/etl`` of a generated 100,000-row CSV (about 10 MB, the table of
   `benchmarks/bench_etl.py`) against plain ``pandas.read_csv`` of the same file.
   Target ≤ 2.5x.
5. ``GET …/data/{key}`` of that 100,000-row dataset against serialising the same
   rows with orjson directly from the column arrays (numeric, boolean and datetime
   columns as numpy arrays, the others as lists). Target ≤ 2x.

Each figure is the best of 3, alternating with its baseline.

    python -m benchmarks.bench_data
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from algomancy_data import CSVFile, DefaultETLFactory
from benchmarks.bench_etl import make_frame
from benchmarks.common import Row, Server, api, csv_upload, env_int, run_alone
from benchmarks.configs import orders_schema

ROWS = env_int("BENCH_ROWS", 100_000)
REPEATS = 3


def best_of(measured: Callable[[], object], baseline: Callable[[], object]) -> tuple[float, float]:
    measured()
    baseline()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(REPEATS):
        for func, series in zip((measured, baseline), times, strict=True):
            start = time.perf_counter()
            func()
            series.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def orjson_columns(frame: pd.DataFrame) -> bytes:
    """The rows of `frame` as JSON columns, straight from the arrays."""
    columns: dict[str, Any] = {}
    for name, series in frame.items():
        values = series.to_numpy()
        if values.dtype.kind in "iufbM":
            columns[str(name)] = values  # numbers, booleans, datetimes: the array itself
        else:
            columns[str(name)] = series.tolist()
    return orjson.dumps(
        {"name": frame.index.name, "columns": columns}, option=orjson.OPT_SERIALIZE_NUMPY
    )


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        make_frame(ROWS).to_csv(path, index=False)
        body = path.read_bytes()
        # The same rows with the dtypes the ETL gives them, for the orjson baseline.
        local = DefaultETLFactory([orders_schema()]).run([CSVFile.from_path(path)], "orders")
        assert local.is_success and local.data_source is not None
        frame = local.data_source.get_table("orders")

        with (
            Server(["--config", "benchmarks.configs:etl_config", "--in-memory"]) as server,
            api(server) as client,
        ):
            etl, read_csv = best_of(csv_upload(client, body), lambda: pd.read_csv(path))

            sizes: list[int] = []

            def download() -> None:
                response = client.get("/sessions/main/data/orders")
                response.raise_for_status()
                sizes.append(len(response.content))

            get, dumps = best_of(download, lambda: orjson_columns(frame))
    assert np.isfinite(get)
    return [
        Row(
            f"4 ETL upload {ROWS:,}-row CSV ({len(body) / 1e6:.1f} MB) / pandas.read_csv",
            etl * 1e3,
            "ms",
            read_csv * 1e3,
            2.5,
            op="<=",
        ),
        Row(
            f"5 GET dataset {ROWS:,} rows ({sizes[-1] / 1e6:.1f} MB) / orjson of the columns",
            get * 1e3,
            "ms",
            dumps * 1e3,
            2.0,
            op="<=",
        ),
    ]


if __name__ == "__main__":
    sys.exit(run_alone(run))
