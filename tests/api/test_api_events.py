"""Server-Sent Events against a real uvicorn server (in a thread of this process)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from algomancy_api import ApiLauncher
from algomancy_api.routers import scenarios as scenario_routes
from algomancy_core import SessionManager
from tests.core.conftest import Gate
from tests.polling import wait_for

from .conftest import PREFIX, api_config


class ThreadServer:
    def __init__(self) -> None:
        self.app = ApiLauncher.build(api_config())
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
    scenario_id: str = httpx.post(f"{server.base}/scenarios", json=body).json()["id"]
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
        httpx.post(f"{server.base}/scenarios/{scenario_id}/run")
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
    httpx.post(f"{server.base}/scenarios/{scenario_id}/run")
    assert gate.started.wait(5)
    notifier = server.sessions.engine.notifier
    with httpx.stream("GET", f"{server.base}/scenarios/{scenario_id}/events", timeout=30) as r:
        # Hold the parser: dropping it would close the response, and so disconnect.
        stream = events(r.iter_lines())
        first = next(e for e in stream if "data" in e)
        assert first["data"]["status"] in ("queued", "processing")
        assert notifier.subscriber_count() == 1
    # The client is gone: the server's stream notices and leaves nothing behind.
    wait_for(lambda: notifier.subscriber_count() == 0)


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
    httpx.post(f"{server.base}/scenarios/{scenario_id}/run")
    record = server.sessions.get_session("main").wait(scenario_id)
    url = f"{server.base}/scenarios/{scenario_id}/events"
    with httpx.stream("GET", url, headers={"Last-Event-ID": str(record.version - 1)}) as r:
        received = [e for e in events(r.iter_lines()) if "data" in e]
    assert [e["data"]["status"] for e in received] == ["complete"]
    assert int(received[0]["id"]) == record.version
