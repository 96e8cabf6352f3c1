"""Dataset versions: what versioning costs an upload, and what repeats cost in space.

1. An ETL upload of a generated 100,000-row CSV (the table of
   `benchmarks/bench_etl.py`) through `ScenarioManager.etl_data` on a SQLite store,
   stored as a new version each time (content digest, version row, content stored by
   digest), against the plain path measured in the same run: the same ETL (the
   engine's factory), the dataset's Arrow payload, and one row inserted into a table
   of the same database through the store's own connections (what an upload wrote
   before versions). Best of 3, alternating. Target ≤ 1.2x.
2. A 10,000-row dataset uploaded 50 times with unchanged content: the bytes of
   dataset content the session stores afterwards against after the first upload.
   Target ≤ 1.0x (the space of one).

    python -m benchmarks.bench_versions
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from algomancy_core import CoreConfig, SessionManager
from algomancy_core.stores.sql import SQLStore
from algomancy_data import CSVFile
from benchmarks.bench_etl import make_frame
from benchmarks.common import Row, env_int, run_alone
from benchmarks.configs import orders_schema

ROWS = env_int("BENCH_ROWS", 100_000)
REPEAT_ROWS = 10_000
UPLOADS = 50
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


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "orders.csv"
        make_frame(ROWS).to_csv(path, index=False)
        small = folder / "small" / "orders.csv"
        small.parent.mkdir()
        make_frame(REPEAT_ROWS).to_csv(small, index=False)
        config = CoreConfig(
            schemas=[orders_schema()], has_persistent_state=True, data_path=str(folder / "state")
        )
        with SessionManager(config) as sessions:
            manager = sessions.create_session("bench")
            store = sessions.runtime.store
            assert isinstance(store, SQLStore)
            keys = itertools.count()

            def versioned() -> None:
                # A new key each time: the content is always stored, never deduplicated.
                result = manager.etl_data([CSVFile.from_path(path)], f"orders-{next(keys)}")
                assert result.is_success

            dialect, engine = store.db.dialect, store.db.engine
            dialect.write(engine, "CREATE TABLE plain (key TEXT PRIMARY KEY, data BLOB NOT NULL)")

            def plain() -> None:
                # The ETL factory the manager runs, so that only the storing differs.
                result = sessions.runtime.etl_factory().run([CSVFile.from_path(path)], "orders")
                assert result.is_success and result.data_source is not None
                payload = result.data_source.to_arrow_bytes()
                dialect.write(
                    engine, "INSERT INTO plain VALUES (?, ?)", (f"p{next(keys)}", payload)
                )

            upload, baseline = best_of(versioned, plain)

            repeated = sessions.create_session("repeats")
            for n in range(UPLOADS):
                assert repeated.etl_data([CSVFile.from_path(small)], "orders").is_success
                if n == 0:
                    one = store.stored_dataset_bytes(repeated.session_id)
            fifty = store.stored_dataset_bytes(repeated.session_id)
            versions = len(repeated.dataset_versions("orders"))
    return [
        Row(
            f"1 ETL upload {ROWS:,}-row CSV, versioned / plain ETL + insert",
            upload * 1e3,
            "ms",
            baseline * 1e3,
            1.2,
            op="<=",
        ),
        Row(
            f"2 {UPLOADS} uploads of one {REPEAT_ROWS:,}-row dataset / one upload",
            float(fifty),
            "bytes",
            float(one),
            1.0,
            op="<=",
            note=f"{versions} version(s) kept",
        ),
    ]


if __name__ == "__main__":
    sys.exit(run_alone(run))
