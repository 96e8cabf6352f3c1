"""`AnswerLayer`: the concerns that act on every answer, in one call frame.

Request ids (`requestids`), request metrics (`metrics`, when on) and the security
headers (`headers`) each wrapped the whole stack as a middleware of its own: three
call frames and three `send` wrappers on every request. Here they run in one layer,
in the order `algomancy_api.middleware` states (the id first, then the clock, then
the headers on the way out), with one `send` wrapper. Bought figure: "1 status
poll, in memory / bare FastAPI" (`benchmarks.bench_status`); in process
(`python -m benchmarks.profile_poll 3000 whole`) ~5 us of a ~90 us poll.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from algomancy_api.middleware.headers import SecurityHeaders
from algomancy_api.middleware.metrics import RequestMetrics
from algomancy_api.middleware.requestids import RequestIds


class AnswerLayer:
    """Outermost: gives the request its id (`RequestIds`), times and counts it
    (`RequestMetrics`, unless None), and puts the security headers and the id on its
    answer (`SecurityHeaders`). WebSocket and lifespan scopes pass untouched."""

    def __init__(
        self,
        app: ASGIApp,
        ids: RequestIds,
        metrics: RequestMetrics | None,
        headers: SecurityHeaders,
    ) -> None:
        self.app = app
        self.ids = ids
        self.metrics = metrics
        self.headers = headers

    @property
    def concerns(self) -> list[object]:
        """The concerns in the order they act on a request."""
        return [c for c in (self.ids, self.metrics, self.headers) if c is not None]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        id_header = self.ids.begin(scope)
        status = 500  # what the server answers if no response starts

        async def send_answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = self.ids.without_id(message.get("headers", ()))
                headers = self.headers.with_headers(scope, headers)
                headers.append(id_header)
                message["headers"] = headers
            await send(message)

        if self.metrics is None:
            await self.app(scope, receive, send_answer)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_answer)
        finally:
            self.metrics.record(scope, status, time.perf_counter() - started)
