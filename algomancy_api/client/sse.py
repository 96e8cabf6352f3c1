"""Server-Sent Events framing, line by line: what both event streams of the client
(a scenario's and a session's) share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SseMessage:
    """One event as the stream framed it: its name, its data lines joined, and the
    last event id seen (ids persist until a new one is sent, as in a browser)."""

    event: str
    data: str
    id: str | None


class SseFrames:
    """Fed one line at a time (without its line break); a blank line completes a
    message. Comment lines (keep-alives) are skipped."""

    def __init__(self) -> None:
        self._event = "message"
        self._data: list[str] = []
        self.last_id: str | None = None

    def feed(self, line: str) -> SseMessage | None:
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
                self.last_id = value
            return None
        message = SseMessage(self._event, "\n".join(self._data), self.last_id)
        self._event, self._data = "message", []
        return message
