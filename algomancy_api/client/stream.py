"""Following a session's event stream (`watch_session`): where to resume and when
to give up, shared by the sync and the async client (`httpx_sse` frames the events)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import orjson
from httpx_sse import ServerSentEvent

from algomancy_api.client.models import SessionEvent

#: The server sends a keep-alive every 15 s: a longer silence is a dead stream.
READ_TIMEOUT = 45.0
#: Reconnections in a row, after a broken stream, before the error is raised.
RECONNECTS = 5
#: Seconds between reconnections.
RECONNECT_DELAY = 0.5


@dataclass
class SessionStream:
    """The state of one `watch_session`: where to resume, and the failures in a row."""

    path: str
    last_event_id: str | None = None
    idle_timeout: float | None = None
    failures: int = 0

    def request(self) -> tuple[dict[str, str], dict[str, str], httpx.Timeout]:
        """Headers, query parameters and timeout of the next (re)connection."""
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = self.last_event_id
        params = {} if self.idle_timeout is None else {"idle_timeout": str(self.idle_timeout)}
        return headers, params, httpx.Timeout(60.0, read=READ_TIMEOUT)

    def event(self, message: ServerSentEvent) -> SessionEvent | None:
        """The `SessionEvent` of one event of the stream (None for one without data)."""
        event_id, data = message.id or None, message.data
        if not data:
            return None
        if event_id is not None:
            self.last_event_id = event_id
        self.failures = 0
        return SessionEvent.model_validate(orjson.loads(data) | {"event_id": event_id})

    def broke(self, error: httpx.TransportError) -> None:
        """A broken stream: reconnect, unless it broke `RECONNECTS` times in a row."""
        self.failures += 1
        if self.failures > RECONNECTS:
            raise error

    @staticmethod
    def ends(event: SessionEvent) -> bool:
        """The session is gone: nothing follows."""
        return event.kind == "session.deleted"
