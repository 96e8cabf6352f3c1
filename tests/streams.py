"""Following a session's event stream from a test: `Follower` reads it on a thread
of its own (an asyncio loop, so that `close()` ends it at once, whatever the
server does)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import orjson

from tests.polling import wait_for


def parse(lines: list[str]) -> dict[str, Any]:
    """One SSE event from its lines (comments skipped)."""
    event: dict[str, Any] = {}
    for line in lines:
        if line.startswith(":"):
            continue
        key, _, value = line.partition(": ")
        event[key] = orjson.loads(value) if key == "data" else value
    return event


class Follower:
    """The events of `url` as they come: `events` (each with the monotonic time it
    arrived under `"received"`), `comments`, and `status` of the response."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers or {}
        self.events: list[dict[str, Any]] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self.ended = False
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Follower:
        self._thread.start()
        wait_for(lambda: self.status is not None or self.ended, what="the stream to answer")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        self._task = self._loop.create_task(self._read())
        try:
            self._loop.run_until_complete(self._task)
        except (asyncio.CancelledError, httpx.HTTPError):
            pass
        finally:
            self.ended = True
            self._loop.close()

    async def _read(self) -> None:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(60, read=None)) as client,
            client.stream("GET", self.url, headers=self.headers) as response,
        ):
            self.status = response.status_code
            lines: list[str] = []
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                elif line == "":
                    if lines:
                        event = parse(lines)
                        event["received"] = time.monotonic()
                        self.events.append(event)
                    lines = []
                else:
                    lines.append(line)

    def close(self) -> None:
        if not self.ended and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(10)

    def kinds(self) -> list[str]:
        return [e["event"] for e in list(self.events)]

    def wait_for_event(self, kind: str, subject: str | None = None, **data: Any) -> dict[str, Any]:
        """The first event of `kind` (about `subject`; whose `scenario` has `data`)."""
        found: list[dict[str, Any]] = []

        def arrived() -> bool:
            for event in list(self.events):
                if event.get("event") != kind:
                    continue
                body = event.get("data", {})
                if subject is not None and body.get("subject") != subject:
                    continue
                scenario = body.get("scenario", {})
                if all(scenario.get(k) == v for k, v in data.items()):
                    found.append(event)
                    return True
            return False

        wait_for(arrived, what=f"a {kind} event on {self.url} (got {self.kinds()})")
        return found[0]
