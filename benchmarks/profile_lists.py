"""The scenario list route called in-process, for a profiler (issue 23):

    pyinstrument -r text -m benchmarks.profile_lists [full|summary] [calls] [cold]

A SQLite store in a temporary folder holds `BENCH_LIST_SCENARIOS` (default 1,000)
complete scenarios of `benchmarks.configs:instant_config`; the route's listing
(`algomancy_api.listing.ScenarioListCache.listing`) is then called `calls` times
(default 200), without HTTP, so that the profile shows the route's own work; with
`cold`, each call with an empty cache (a first listing). The CPU time of a call and of
`orjson.dumps` of the same payload are printed.
"""

from __future__ import annotations

import sys
import tempfile
import time

import orjson

from algomancy_api import ApiConfiguration
from algomancy_api.listing import ScenarioListCache
from algomancy_core import ScenarioManager, ScenarioStatus, SessionManager
from benchmarks.common import env_int
from benchmarks.configs import DATASET, instant_config

N = env_int("BENCH_LIST_SCENARIOS", 1000)


def filled(sessions: SessionManager, n: int) -> ScenarioManager:
    manager = sessions.get_session("main")
    ids = [manager.create_scenario(f"s{i}", DATASET, "Instant", {}).id for i in range(n)]
    for scenario_id in ids:
        manager.run_scenario(scenario_id)
    deadline = time.monotonic() + 300
    while any(r.status is not ScenarioStatus.COMPLETE for r in manager.list_scenarios()):
        if time.monotonic() > deadline:
            raise TimeoutError("scenarios did not complete in time")
        time.sleep(0.05)
    return manager


def main(argv: list[str]) -> int:
    view = argv[0] if argv else "full"
    calls = int(argv[1]) if len(argv) > 1 else 200
    cold = "cold" in argv[2:]
    with tempfile.TemporaryDirectory() as folder:
        config = ApiConfiguration(**instant_config(), data_path=folder, has_persistent_state=True)
        with SessionManager(config) as sessions:
            manager = filled(sessions, N)
            cache = ScenarioListCache()
            body = cache.listing(manager, view, None, None, 0)  # type: ignore[arg-type]
            start = time.process_time()
            for _ in range(calls):
                if cold:
                    cache = ScenarioListCache()
                cache.listing(manager, view, None, None, 0)  # type: ignore[arg-type]
            each = (time.process_time() - start) / calls
    payload = orjson.loads(body)
    start = time.process_time()
    for _ in range(calls):
        orjson.dumps(payload)
    dumped = (time.process_time() - start) / calls
    print(
        f"{view}{' cold' if cold else ''}: {each * 1e3:.2f} ms a call, {len(body) / 1e6:.2f} MB; "
        f"orjson.dumps {dumped * 1e3:.2f} ms; ratio {each / dumped:.1f}x",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
