"""How long `import algomancy_api.client` takes in a fresh interpreter (issue 22).

Printed, not a target: the tests check what it loads (tests/client/test_client_imports.py),
never how long it takes. The best of `ROUNDS` runs counts, as `timeit` takes the best;
the bare interpreter's start-up is the baseline.

    python -m benchmarks.bench_client_import
"""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks.common import Row, env_int, run_alone

ROUNDS = env_int("BENCH_CLIENT_IMPORT_ROUNDS", 5)


def _best(code: str) -> float:
    times = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - began)
    return min(times) * 1000


def run() -> list[Row]:
    bare = _best("pass")
    client = _best("import algomancy_api.client")
    return [
        Row("python -c pass", bare, "ms"),
        Row("import algomancy_api.client", client, "ms", baseline=bare, note="with start-up"),
    ]


if __name__ == "__main__":
    sys.exit(run_alone(run))
