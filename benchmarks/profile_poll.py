"""The status poll called in-process through the whole ASGI app, for a profiler (issue 22):

    python -m benchmarks.profile_poll [calls] [split|cprofile|pyinstrument]

The app of `algomancy-api serve --config benchmarks.configs:instant_config
--in-memory` (metrics on, as by default) holds one complete `Instant` scenario. A
bare route (`async def` returning a constant dict, as `benchmarks.baseline_app`'s) is
added to this app only, first of all, so that both requests pass the same
middlewares. Each request is one ASGI call with a ready-made scope, `receive` and
`send`: no socket, no HTTP parser, no access log; what is measured is the app's
own work.

- `whole`: microseconds of CPU per call of the poll, of the bare route beside it
  and of a bare FastAPI app (`benchmarks.baseline_app`), three rounds interleaved.
- `split` (default): microseconds per call of the poll and of the bare route,
  through the whole stack and from each layer inwards (the difference between two
  lines is the cost of the layer between them), and the same for a bare FastAPI
  app of one route, for scale.
- `cprofile`: `cProfile` over `calls` polls: the 45 functions of most cumulative
  time, the 30 of most own time.
- `pyinstrument`: pyinstrument's call tree of `calls` polls.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from algomancy_api import ApiConfiguration, ApiLauncher
from benchmarks.baseline_app import STATUS
from benchmarks.baseline_app import app as bare_app
from benchmarks.configs import DATASET, instant_config

PREFIX = "/api/v1"
BARE_PATH = f"{PREFIX}/sessions/main/scenarios/{{scenario_id}}/bare"

Call = Callable[[], Awaitable[None]]


def scope(path: str) -> dict[str, Any]:
    """What uvicorn (httptools) hands the app for `GET path` from the load generator."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", b"*/*")],
        "state": {},
    }


def caller(app: Any, path: str, top: Any = None) -> tuple[Call, list[bytes]]:
    """One ASGI call of `app` (a layer of `top`'s stack) for `GET path` (a fresh scope
    each time, as a server gives), and the list its answers' bodies go to."""
    answers: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            answers.append(message.get("body", b""))

    async def call() -> None:
        await app(scope(path) | {"app": top or app}, receive, send)

    return call, answers


def our_app() -> tuple[FastAPI, str]:
    """The server's app (started), its bare route added first, and the poll's path."""
    config = ApiConfiguration(**instant_config())
    app = ApiLauncher.build(config)

    async def bare(scenario_id: str) -> dict[str, Any]:
        return STATUS

    app.add_api_route(BARE_PATH, bare, methods=["GET"], include_in_schema=False)
    app.router.routes.insert(0, app.router.routes.pop())
    sessions = app.state.sessions
    sessions.start()
    manager = sessions.get_session("main")
    scenario = manager.create_scenario("poll", DATASET, "Instant", {})
    manager.run_scenario(scenario.id)
    deadline = time.monotonic() + 30
    while manager.get_scenario(scenario.id).status.value != "complete":
        if time.monotonic() > deadline:
            raise TimeoutError("the scenario did not complete")
        time.sleep(0.01)
    return app, f"{PREFIX}/sessions/main/scenarios/{scenario.id}/status"


def layers(app: Any) -> list[Any]:
    """The ASGI apps of the stack, outermost first, down to FastAPI's
    `AsyncExitStackMiddleware` (inside it, the router needs what it puts in the scope)."""
    found = []
    layer = app.middleware_stack
    while layer is not None:
        found.append(layer)
        if type(layer).__name__ == "AsyncExitStackMiddleware":
            break
        layer = getattr(layer, "app", None)
    return found


async def per_call(call: Call, calls: int) -> float:
    """Microseconds of CPU a call, best of two runs of `calls`."""
    for _ in range(min(calls, 500)):
        await call()
    best = float("inf")
    for _ in range(2):
        start = time.process_time()
        for _ in range(calls):
            await call()
        best = min(best, time.process_time() - start)
    return best / calls * 1e6


async def whole(calls: int) -> None:
    """The poll, the bare route beside it, and a bare FastAPI app, each through its
    whole stack; three rounds, interleaved, so that the ratios come from one run."""
    app, poll = our_app()
    bare_path = BARE_PATH.replace("{scenario_id}", "x")
    status_path = "/api/v1/sessions/main/scenarios/x/status"
    rows: dict[str, list[float]] = {"poll": [], "bare route in our app": [], "bare FastAPI app": []}
    for _ in range(3):
        rows["poll"].append(await per_call(caller(app, poll)[0], calls))
        rows["bare route in our app"].append(await per_call(caller(app, bare_path)[0], calls))
        rows["bare FastAPI app"].append(await per_call(caller(bare_app, status_path)[0], calls))
    for name, values in rows.items():
        print(f"{name:<24} {min(values):7.1f} us  ({', '.join(f'{v:.1f}' for v in values)})")
    print(f"poll / bare FastAPI app: {min(rows['poll']) / min(rows['bare FastAPI app']):.2f}x")


async def split(calls: int) -> None:
    app, poll = our_app()
    call, answers = caller(app, poll)
    await call()  # builds the middleware stack
    print(f"poll answers {answers[-1]!r}")
    bare_path = BARE_PATH.replace("{scenario_id}", "x")
    print(f"{'from layer inwards':<40} {'poll us':>9} {'bare us':>9}")
    for layer in layers(app):
        name = type(layer).__name__
        poll_us = await per_call(caller(layer, poll, app)[0], calls)
        bare_us = await per_call(caller(layer, bare_path, app)[0], calls)
        print(f"{name:<40} {poll_us:9.1f} {bare_us:9.1f}")
    status_path = "/api/v1/sessions/main/scenarios/x/status"
    alone = await per_call(caller(bare_app, status_path)[0], calls)
    print(f"{'a bare FastAPI app (baseline_app)':<40} {alone:9.1f}")


async def profiled(calls: int, how: str) -> None:
    app, poll = our_app()
    call, _ = caller(app, poll)
    for _ in range(500):
        await call()
    if how == "cprofile":
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(calls):
            await call()
        profile.disable()
        stats = pstats.Stats(profile)
        print(f"{stats.total_calls / calls:.0f} Python calls a poll")  # type: ignore[attr-defined]
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    else:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001, async_mode="disabled")
        profiler.start()
        for _ in range(calls):
            await call()
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))


def main(argv: list[str]) -> int:
    calls = int(argv[0]) if argv else 20_000
    how = argv[1] if len(argv) > 1 else "split"
    try:
        import uvloop

        run: Callable[[Any], Any] = uvloop.run
    except ImportError:
        run = asyncio.run
    if how == "whole":
        run(whole(calls))
    else:
        run(split(calls) if how == "split" else profiled(calls, how))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
