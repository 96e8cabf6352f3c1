"""Server-Sent Events against a real uvicorn server (in a thread of this process)."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

import tests.core.conftest as domain
from algomancy_api import ApiLauncher
from algomancy_api.routers import scenarios as scenario_routes
from algomancy_api.routers import session_events as session_event_routes
from algomancy_core import BaseAlgorithm, BaseResult, RunContext, SessionManager
from algomancy_data import DataSource
from tests import patient_http as http
from tests.core.conftest import Broken, CountParameters, Gate, Gated, Instant
from tests.polling import wait_for

from .conftest import PREFIX, api_config


class TwoReports(BaseAlgorithm):
    """Reports progress twice at once, then waits at the gate without reporting."""

    name = "Two reports"
    parameters = CountParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        ctx.progress(0.1, "first")
        ctx.progress(0.2, "second")
        domain.GATE.started.set()
        domain.GATE.release.wait(60)
        return BaseResult({"total": 1})


class ThreadServer:
    def __init__(self, **overrides: Any) -> None:
        overrides.setdefault("algorithms", [Instant, Gated, Broken, TwoReports])
        self.app = ApiLauncher.build(api_config(**overrides))
        # A socket bound here, handed to uvicorn: the port is ours from the start.
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.base = f"http://127.0.0.1:{self.port}{PREFIX}/sessions/main"

    @property
    def sessions(self) -> SessionManager:
        manager: SessionManager = self.app.state.sessions
        return manager

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        wait_for(lambda: self.server.started, what="the server started")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.socket.close()


@pytest.fixture
def server() -> Iterator[ThreadServer]:
    with ThreadServer() as s:
        yield s


def create(server: ThreadServer, algo: str) -> str:
    body = {"tag": f"t-{time.monotonic_ns()}", "dataset_key": "Master data", "algo_name": algo}
    scenario_id: str = http.post(f"{server.base}/scenarios", json=body).json()["id"]
    return scenario_id


def events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Parse an SSE stream into events; comments come as {"comment": text}."""
    event: dict[str, Any] = {}
    for line in lines:
        if line.startswith(":"):
            yield {"comment": line[1:].strip()}
        elif line == "":
            if event:
                yield event
            event = {}
        else:
            key, _, value = line.partition(": ")
            event[key] = orjson.loads(value) if key == "data" else value


def test_every_status_in_order_and_close_on_completion(server: ThreadServer, gate: Gate) -> None:
    scenario_id = create(server, "Gated")
    received = []
    with httpx.stream("GET", f"{server.base}/scenarios/{scenario_id}/events", timeout=30) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        http.post(f"{server.base}/scenarios/{scenario_id}/run")
        for event in events(r.iter_lines()):
            if "data" not in event:
                continue
            received.append(event)
            if event["data"]["status"] == "processing" and event["data"]["progress"] == 0.5:
                gate.release.set()
        # The loop ends because the server closed the stream after `complete`.
    statuses = [e["data"]["status"] for e in received]
    assert statuses[0] == "created" and statuses[-1] == "complete"
    changes = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
    assert changes == ["created", "queued", "processing", "complete"]
    assert any(e["data"]["message"] == "waiting at the gate" for e in received)
    ids = [int(e["id"]) for e in received]
    assert ids == sorted(set(ids))


def test_disconnect_ends_the_stream(server: ThreadServer, gate: Gate) -> None:
    scenario_id = create(server, "Gated")
    http.post(f"{server.base}/scenarios/{scenario_id}/run")
    assert gate.started.wait(5)
    notifier = server.sessions.runtime.notifier
    with httpx.stream("GET", f"{server.base}/scenarios/{scenario_id}/events", timeout=30) as r:
        # Hold the parser: dropping it would close the response, and so disconnect.
        stream = events(r.iter_lines())
        first = next(e for e in stream if "data" in e)
        assert first["data"]["status"] in ("queued", "processing")
        assert notifier.subscriber_count() == 1
    # The client is gone: the server's stream notices and leaves nothing behind.
    wait_for(lambda: notifier.subscriber_count() == 0)


async def stop_reading_then_leave(
    server: ThreadServer, path: str, subscribers: Callable[[], int], kept: list[Any]
) -> None:
    """A client of `path` that reads the first chunk of the answer, then stops reading
    (its socket is full: `send` never returns), then leaves; checks that the stream's
    generator is still parked (in `kept`) and that `subscribers()` is back to 0."""
    sent_bodies = 0
    gone = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal sent_bodies
        if message["type"] == "http.response.body" and message.get("body"):
            sent_bodies += 1
            if sent_bodies > 1:
                await asyncio.Event().wait()  # a full socket: the send never ends

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", f"127.0.0.1:{server.port}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", server.port),
    }
    answer = asyncio.create_task(server.app(scope, receive, send))
    while sent_bodies < 2:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)  # progress events fill FastAPI's buffers behind the send
    assert subscribers() == 1
    gone.set()
    # The answer may end in FastAPI's own BrokenResourceError (what uvicorn logs when
    # this happens on a socket): not the point here.
    done, _ = await asyncio.wait({answer}, timeout=10)
    assert done, "the request did not end when its client left"
    answer.exception()
    # Checked before `asyncio.run` ends: its shutdown closes every generator.
    assert kept and kept[0].ag_frame is not None, "the generator was closed after all"
    assert subscribers() == 0


@pytest.mark.parametrize("stream", ["scenario", "session"])
def test_a_stream_parked_at_a_yield_releases_its_subscription(
    server: ThreadServer, gate: Gate, monkeypatch: pytest.MonkeyPatch, stream: str
) -> None:
    """When the client leaves, FastAPI's SSE producer can be cancelled while the
    stream's generator is parked at a `yield`, where no cancellation reaches it: then
    nothing closes the generator but the garbage collector (here never: a reference is
    kept and the collector is off, as when the keep-alive task's BrokenResourceError
    makes a cycle). What the stream holds must still go when its request ends."""
    module, name = {
        "scenario": (scenario_routes, "_follow"),
        "session": (session_event_routes, "_stream"),
    }[stream]
    kept: list[Any] = []
    generator_function = getattr(module, name)

    def keep(*args: Any) -> Any:
        kept.append(generator_function(*args))
        return kept[-1]

    monkeypatch.setattr(module, name, keep)
    scenario_id = create(server, "Gated")  # reports progress every 10 ms while it waits
    http.post(f"{server.base}/scenarios/{scenario_id}/run")
    assert gate.started.wait(5)
    runtime = server.sessions.runtime
    path, subscribers = {
        "scenario": (f"/scenarios/{scenario_id}/events", runtime.notifier.subscriber_count),
        "session": ("/events", runtime.changes.subscriber_count),
    }[stream]
    gc.disable()
    try:
        asyncio.run(
            stop_reading_then_leave(server, f"{PREFIX}/sessions/main{path}", subscribers, kept)
        )
    finally:
        gc.enable()


def test_keep_alive_while_idle(
    server: ThreadServer, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenario_routes, "KEEP_ALIVE_SECONDS", 0.5)
    scenario_id = create(server, "Instant")  # stays `created`: nothing happens
    with httpx.stream("GET", f"{server.base}/scenarios/{scenario_id}/events", timeout=30) as r:
        stream = events(r.iter_lines())
        assert next(stream)["data"]["status"] == "created"
        assert next(stream) == {"comment": "keep-alive"}


def test_last_event_id_resumes(server: ThreadServer) -> None:
    scenario_id = create(server, "Instant")
    http.post(f"{server.base}/scenarios/{scenario_id}/run")
    record = server.sessions.get_session("main").wait(scenario_id)
    url = f"{server.base}/scenarios/{scenario_id}/events"
    with httpx.stream("GET", url, headers={"Last-Event-ID": str(record.version - 1)}) as r:
        received = [e for e in events(r.iter_lines()) if "data" in e]
    assert [e["data"]["status"] for e in received] == ["complete"]
    assert int(received[0]["id"]) == record.version


def follow(url: str, headers: dict[str, str] | None = None, on_event: Any = None) -> list[Any]:
    """The data events of a stream until the server ends it."""
    received = []
    with httpx.stream("GET", url, headers=headers or {}, timeout=60) as r:
        for event in events(r.iter_lines()):
            if "data" in event:
                received.append(event)
                if on_event is not None:
                    on_event(event)
    return received


def test_a_rerun_streams_the_new_run_only(server: ThreadServer, gate: Gate) -> None:
    """After a re-run the stream starts at the new run: no replay of the previous
    run's history, whose `complete` would end a client's wait with stale results."""
    main = server.sessions.get_session("main")
    scenario_id = create(server, "Gated")
    gate.release.set()
    http.post(f"{server.base}/scenarios/{scenario_id}/run")
    first_run = main.wait(scenario_id)
    assert first_run.status.value == "complete"
    gate.release.clear()
    rerun = http.post(f"{server.base}/scenarios/{scenario_id}/run").json()
    assert rerun["status"] == "queued"

    def release_when_waiting(event: dict[str, Any]) -> None:
        if event["data"]["progress"] == 0.5:
            gate.release.set()

    url = f"{server.base}/scenarios/{scenario_id}/events"
    received = follow(url, on_event=release_when_waiting)
    ids = [int(e["id"]) for e in received]
    assert min(ids) > first_run.version
    statuses = [e["data"]["status"] for e in received]
    changes = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
    assert changes == ["queued", "processing", "complete"]

    # Last-Event-ID still resumes within the run.
    resumed = follow(url, headers={"Last-Event-ID": received[0]["id"]})
    assert resumed == received[1:]


def test_the_first_progress_report_reaches_the_stream(gate: Gate, tmp_path: Path) -> None:
    """On a shared (SQLite) store progress is written a few times a second, but the
    first report of a run is written at once, so followers see it."""
    with ThreadServer(has_persistent_state=True, data_path=str(tmp_path)) as server:
        scenario_id = create(server, "Two reports")
        messages: list[str | None] = []

        def release_after_both(event: dict[str, Any]) -> None:
            messages.append(event["data"]["message"])
            if event["data"]["message"] == "second":
                gate.release.set()

        url = f"{server.base}/scenarios/{scenario_id}/events"
        with httpx.stream("GET", url, timeout=60) as r:
            http.post(f"{server.base}/scenarios/{scenario_id}/run")
            for event in events(r.iter_lines()):
                if "data" in event:
                    release_after_both(event)
        assert "first" in messages and messages.index("first") < messages.index("second")
