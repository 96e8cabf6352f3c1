"""Run every benchmark and print one table: ``python -m benchmarks``.

Each benchmark module also runs alone (``python -m benchmarks.bench_status``).
A benchmark that fails is reported and the others still run; the exit code is 0
even when a target is missed (the table says MISS).
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback

from benchmarks.common import Row, format_table

MODULES = [
    "benchmarks.bench_status",
    "benchmarks.bench_scenarios",
    "benchmarks.bench_data",
    "benchmarks.bench_sessions",
    "benchmarks.bench_parallel",
    "benchmarks.bench_parallel_points",
    "benchmarks.bench_session_events",
    "benchmarks.bench_ops",
    "benchmarks.bench_versions",
    "benchmarks.bench_decisions",
    "benchmarks.bench_experiments",
    "benchmarks.bench_studies",
    "benchmarks.bench_client_import",
    "benchmarks.rss",
    "benchmarks.lists",
    "benchmarks.etl_csv",
]


def main(argv: list[str] | None = None) -> int:
    selected = (argv if argv is not None else sys.argv[1:]) or MODULES
    rows: list[Row] = []
    started = time.perf_counter()
    for name in selected:
        module_name = name if name.startswith("benchmarks.") else f"benchmarks.{name}"
        began = time.perf_counter()
        print(f"running {module_name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(module_name)
            rows += module.run()
        except Exception as exc:
            traceback.print_exc()
            rows.append(Row(f"{module_name} failed", float("nan"), note=repr(exc)))
        print(f"  {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    print(format_table(rows))
    print(f"\n{len(rows)} figures in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
