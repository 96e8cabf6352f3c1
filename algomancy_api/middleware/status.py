"""The status a response started with, for middlewares that record it."""

from __future__ import annotations

from starlette.types import Message, Send


class StatusSeen:
    """A `send` that passes every message on and keeps the response's status
    (500 until a response starts: what the server answers if none does)."""

    __slots__ = ("_send", "status")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)
