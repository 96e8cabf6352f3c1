"""The scenario list route called in-process, for a profiler (issue 23):

    pyinstrument -r text -m benchmarks.profile_lists [full|summary] [calls] [cold]
    python -m benchmarks.profile_lists asgi [full|summary] [calls]

A SQLite store in a temporary folder holds `BENCH_LIST_SCENARIOS` (default 1,000)
complete scenarios of `benchmarks.configs:instant_config`; the route's listing
(`algomancy_api.listing.ScenarioListCache.listing`) is then called `calls` times
(default 200), without HTTP, so that the profile shows the route's own work; with
`cold`, each call with an empty cache (a first listing). The CPU time of a call and of
`orjson.dumps` of the same payload are printed.

`asgi`: the same list through the server's whole ASGI app (every middleware, the
router, the route; no socket, HTTP parser or access log), a kept answer, CPU time
per call with `KeptListRoute`'s early answer (`algomancy_api.listroute`) and without
it (its `kept_answer` swapped for one that finds nothing, so FastAPI's handler and
the endpoint answer), in rounds that alternate, against `orjson.dumps`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from typing import Any

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


async def asgi_rounds(app: Any, view: str, calls: int, rounds: int = 5) -> None:
    from algomancy_api import listroute
    from benchmarks.profile_poll import scope

    path = "/api/v1/sessions/main/scenarios"
    query = b"view=summary" if view == "summary" else b""
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    async def call() -> None:
        body.clear()
        await app(scope(path) | {"app": app, "query_string": query}, receive, send)

    async def nothing_kept(request: Any) -> None:
        return None

    early = listroute.kept_answer
    rows: dict[str, list[float]] = {"early answer": [], "FastAPI's handler": []}
    for _ in range(50):
        await call()
    payload = orjson.loads(b"".join(body))
    for _ in range(rounds):
        for name, finder in (("early answer", early), ("FastAPI's handler", nothing_kept)):
            listroute.kept_answer = finder  # type: ignore[assignment]
            await call()
            start = time.process_time()
            for _ in range(calls):
                await call()
            rows[name].append((time.process_time() - start) / calls * 1e6)
    listroute.kept_answer = early
    start = time.process_time()
    for _ in range(calls):
        orjson.dumps(payload)
    dumped = (time.process_time() - start) / calls * 1e6
    for name, values in rows.items():
        print(
            f"{view}, {name:<18} {min(values):7.1f} us a call, best of "
            f"({', '.join(f'{v:.1f}' for v in values)}); {min(values) / dumped:.2f}x the dump",
            file=sys.stderr,
        )
    print(f"orjson.dumps {dumped:.1f} us", file=sys.stderr)


def asgi(argv: list[str]) -> int:
    from algomancy_api import ApiLauncher

    view = argv[0] if argv else "summary"
    calls = int(argv[1]) if len(argv) > 1 else 500
    with tempfile.TemporaryDirectory() as folder:
        config = ApiConfiguration(**instant_config(), data_path=folder, has_persistent_state=True)
        app = ApiLauncher.build(config)
        sessions = app.state.sessions
        sessions.start()
        try:
            filled(sessions, N)
            asyncio.run(asgi_rounds(app, view, calls))
        finally:
            sessions.close()
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["asgi"]:
        return asgi(argv[1:])
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
