"""Following a session's event stream (`watch_session`): parsing and reconnecting,
shared by the sync and the async client."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import orjson

from algomancy_api.client.models import SessionEvent

#: The server sends a keep-alive every 15 s: a longer silence is a dead stream.
READ_TIMEOUT = 45.0
#: Reconnections in a row, after a broken stream, before the error is raised.
RECONNECTS = 5
#: Seconds between reconnections.
RECONNECT_DELAY = 0.5


@dataclass
class SessionStream:
    """The state of one `watch_session`: where to resume, and the SSE parser."""

    path: str
    last_event_id: str | None = None
    idle_timeout: float | None = None
    failures: int = 0
    _event: str = "message"
    _data: list[str] = field(default_factory=list)
    _id: str | None = None

    def request(self) -> tuple[dict[str, str], dict[str, str], httpx.Timeout]:
        """Headers, query parameters and timeout of the next (re)connection."""
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        params = {} if self.idle_timeout is None else {"idle_timeout": str(self.idle_timeout)}
        return headers, params, httpx.Timeout(60.0, read=READ_TIMEOUT)

    def feed(self, line: str) -> SessionEvent | None:
        """The event a blank line completes."""
        if line.startswith(":"):
            return None
        if line:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                self._event = value
            elif name == "data":
                self._data.append(value)
            elif name == "id":
                self._id = value
            return None
        event_id, data = self._id, "\n".join(self._data)
        self._event, self._data, self._id = "message", [], None
        if not data:
            return None
        if event_id is not None:
            self.last_event_id = event_id
        self.failures = 0
        return SessionEvent.model_validate(orjson.loads(data) | {"event_id": event_id})

    def broke(self, error: httpx.TransportError) -> None:
        """A broken stream: reconnect, unless it broke `RECONNECTS` times in a row."""
        self.failures += 1
        self._event, self._data, self._id = "message", [], None
        if self.failures > RECONNECTS:
            raise error

    @staticmethod
    def ends(event: SessionEvent) -> bool:
        """The session is gone: nothing follows."""
        return event.kind == "session.deleted"
