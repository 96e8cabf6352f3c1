"""The request size limit: `BodySizeLimit`."""

from __future__ import annotations

import time

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from algomancy_api.errors import detail_response
from algomancy_api.middleware.jsonbody import is_dataset_upload


class BodySizeLimit:
    """Answer 413 for request bodies over `max_bytes`.

    A declared `Content-Length` over the limit is refused before any of the body is
    read; a chunked body is counted as it streams and cut off once over. Either way
    the answer says `Connection: close` and the rest of the body is not read.

    Uploads (the dataset routes' bodies) being received or handled at once share
    `in_flight_bytes`: each reserves its declared length (a chunked one,
    `max_bytes`) until its answer is sent, and one that does not fit is answered 503
    with `Retry-After`. One client address may hold at most `per_client_bytes` of
    it, so that a client cannot take the whole budget. The small bodies of the other
    routes (at most `max_json_bytes`) are not counted: an upload flood does not
    stop the web app's buttons.

    A body must arrive at `min_bytes_per_second` at least, averaged from the start
    of the request once `grace_seconds` have passed: a client that declares a body
    and stays silent (or trickles it) is answered 408, `Connection: close`, instead
    of holding its reservation and its connection for good.

    The count is ours, not Starlette's `RequestBodyLimitMiddleware` (or FastAPI's
    `max_body_size` per app, router or route), which cannot take its place here:
    those limits act inside routing, but `JsonDepthLimit`, outside it, reads a
    JSON body whole before routing and relies on this limit to bound what it
    reads; the upload budget (503) and the slow-body deadline (408) would stay
    ours anyway, around the same `receive`; and Starlette answers
    `Content Too Large` as plain text, where every refusal of this API is
    `{"detail": ...}` naming the limit and the configuration field that sets it.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        in_flight_bytes: int | None = None,
        max_json_bytes: int | None = None,
        prefix: str = "",
        per_client_bytes: int | None = None,
        min_bytes_per_second: int | None = None,
        grace_seconds: float = 10.0,
        metrics: bool = False,
    ) -> None:
        self.app = app
        #: Keep `algomancy_uploads_in_flight` and its bytes (see `metrics`).
        self.metrics = metrics
        self.max_bytes = max_bytes
        self.in_flight_budget = in_flight_bytes if in_flight_bytes is not None else 4 * max_bytes
        self.in_flight = 0
        self.per_client = self.in_flight_budget if per_client_bytes is None else per_client_bytes
        self.in_flight_by_client: dict[str, int] = {}
        # Bodies other than datasets (the upload routes) get the small JSON limit.
        self.max_json_bytes = max_json_bytes
        self.prefix = prefix
        self.min_rate = min_bytes_per_second
        self.grace = grace_seconds

    def limit_for(self, path: str) -> tuple[int, str]:
        """The body limit of a path, and the configuration field that sets it."""
        if self.max_json_bytes is None or is_dataset_upload(path, self.prefix):
            return self.max_bytes, "max_upload_bytes"
        return min(self.max_json_bytes, self.max_bytes), "max_json_bytes"

    @staticmethod
    def passes(scope: Scope) -> bool:
        """Whether the request declares no body: nothing to count or refuse
        (`algomancy_api.middleware.chain`)."""
        if scope["type"] != "http":
            return True
        for key, _ in scope.get("headers", ()):
            if key == b"content-length" or key == b"transfer-encoding":
                return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        # The path's limit is looked up (a regular-expression match, ~1.5 us of a
        # status poll: "1 status poll, in memory / bare FastAPI") only for a request
        # that declares a body.
        limit: tuple[int, str] | None = None
        may_have_body = False
        declared = -1
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await detail_response(400, "invalid Content-Length header")(
                        scope, receive, send
                    )
                    return
                if declared > 0:
                    limit = limit or self.limit_for(scope["path"])
                    if declared > limit[0]:
                        await self._refuse(scope, receive, send, *limit)
                        return
                may_have_body = declared > 0
            elif key == b"transfer-encoding":
                may_have_body = True
        if not may_have_body:
            # Without Content-Length or Transfer-Encoding there is no body to count
            # (a status poll, say): no wrapping on the hot path.
            await self.app(scope, receive, send)
            return
        max_bytes, field = limit or self.limit_for(scope["path"])
        if field == "max_json_bytes":
            # A small body: not counted in the uploads' budget.
            await self._limited(scope, receive, send, max_bytes, field, started)
            return
        reserved = declared if declared >= 0 else max_bytes
        client = scope["client"][0] if scope.get("client") else ""
        held = self.in_flight_by_client.get(client, 0)
        busy = None
        if self.in_flight + reserved > self.in_flight_budget:
            busy = (
                "too many uploads in flight: the server holds at most "
                f"{self.in_flight_budget} request bytes at once (max_uploads_in_flight_bytes)"
            )
        elif held + reserved > self.per_client:
            busy = (
                "too many uploads in flight from your address: one client holds at most "
                f"{self.per_client} request bytes at once (max_uploads_per_client_bytes)"
            )
        if busy is not None:
            answer = detail_response(
                503, f"{busy}; retry shortly", {"Retry-After": "2", "Connection": "close"}
            )
            await answer(scope, receive, send)
            return
        self.in_flight += reserved
        self.in_flight_by_client[client] = held + reserved
        if self.metrics:
            from algomancy_api.metrics import UPLOAD_BYTES_IN_FLIGHT, UPLOADS_IN_FLIGHT

            UPLOADS_IN_FLIGHT.inc()
            UPLOAD_BYTES_IN_FLIGHT.inc(reserved)
        try:
            await self._limited(scope, receive, send, max_bytes, field, started)
        finally:
            self.in_flight -= reserved
            left = self.in_flight_by_client[client] - reserved
            if left:
                self.in_flight_by_client[client] = left
            else:
                del self.in_flight_by_client[client]
            if self.metrics:
                UPLOADS_IN_FLIGHT.dec()
                UPLOAD_BYTES_IN_FLIGHT.dec(reserved)

    async def _limited(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        max_bytes: int,
        field: str,
        started: float,
    ) -> None:
        received = 0
        body_done = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done or self.min_rate is None:
                message = await receive()
            else:
                # By then the body must have reached `received` bytes at least.
                deadline = started + self.grace + received / self.min_rate
                with anyio.move_on_after(max(deadline - time.monotonic(), 0.0)) as waiting:
                    message = await receive()
                if waiting.cancelled_caught:
                    raise _BodyTooSlow(
                        f"request body too slow: {received} bytes in "
                        f"{time.monotonic() - started:.0f} s; after the first "
                        f"{self.grace:g} s a body must arrive at {self.min_rate} bytes per "
                        "second at least (min_body_bytes_per_second)"
                    )
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > max_bytes:
                    raise _BodyTooLarge(_too_large(max_bytes, field))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await self._refuse(scope, receive, send, max_bytes, field)
        except _BodyTooSlow as slow:
            if not response_started:
                answer = detail_response(408, slow.detail, {"Connection": "close"})
                await answer(scope, receive, send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, max_bytes: int, field: str
    ) -> None:
        # The rest of the body is not read: the connection closes after the answer.
        answer = detail_response(413, _too_large(max_bytes, field), {"Connection": "close"})
        await answer(scope, receive, send)


def _too_large(max_bytes: int, field: str) -> str:
    return f"request body too large: the limit is {max_bytes} bytes ({field})"


class _BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so that body parsers pass it on as 413."""

    def __init__(self, detail: str) -> None:
        # Connection: close, so that the server stops reading the body
        super().__init__(status_code=413, detail=detail, headers={"Connection": "close"})


class _BodyTooSlow(HTTPException):
    """Raised from `receive` when the body is late; passed on as 408."""

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=408, detail=detail, headers={"Connection": "close"})
