"""Slow clients at the connection level: a deadline on a request's headers.

uvicorn closes an idle kept-alive connection (`timeout_keep_alive`) but sets no
deadline on the headers of a request: a client that opens connections and sends
half a request line holds a file descriptor and a protocol object for as long as
it likes (1,100 such connections made `/health` unreachable under a 1,024
open-file limit). The protocol classes here are uvicorn's own (httptools, h11) with
two additions:

* a deadline, `header_timeout_seconds`, from the opening of a connection (or the
  first byte of the next request on a kept-alive one) to the end of the request's
  headers; past it the connection is answered 408 and closed;
* at most `max_connections_awaiting_headers` connections of a process wait for
  their headers at once: one more closes the one that has waited longest.

`serve` and its gunicorn worker (`algomancy_api.gunicorn_worker`) select them and
set the limits from the configuration (`configure`, called by the app factory).
Another host can select them with uvicorn's `--http
algomancy_api.slowclients:AutoHTTPProtocol` (the defaults apply). The body's pace
is watched by `BodySizeLimit` (`min_body_bytes_per_second`, in `algomancy_api.middleware`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import resource
from typing import TYPE_CHECKING

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from algomancy_api.onewrite import StartWithBody

DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_CONNECTIONS_AWAITING_HEADERS = 500

_TIMEOUT_TEXT = b"request headers not received in time (header_timeout_seconds)"
#: What a connection whose headers came too late is sent before it is closed.
TIMEOUT_408 = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\n"
    b"connection: close\r\n\r\n%s" % (len(_TIMEOUT_TEXT), _TIMEOUT_TEXT)
)


@dataclasses.dataclass
class HeaderLimits:
    """The limits in force in this process (set by `configure`)."""

    timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    max_awaiting: int = DEFAULT_MAX_CONNECTIONS_AWAITING_HEADERS


LIMITS = HeaderLimits()
#: The connections awaiting headers, oldest first (a dict keeps insertion order).
_AWAITING: dict[HeaderDeadline, None] = {}


def configure(timeout_seconds: float, max_awaiting: int) -> None:
    """Set the limits of the connections this process accepts from now on."""
    LIMITS.timeout_seconds = timeout_seconds
    LIMITS.max_awaiting = max_awaiting


def awaiting_headers() -> int:
    """How many connections of this process wait for their headers now."""
    return len(_AWAITING)


def raise_open_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit (children
    inherit it): a 1,024 default is soon reached by clients that hold connections.
    The limit in force afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class HeaderDeadline:
    """The header deadline, mixed into a uvicorn HTTP protocol class."""

    _header_timer: asyncio.TimerHandle | None = None

    if TYPE_CHECKING:
        loop: asyncio.AbstractEventLoop
        transport: asyncio.Transport

        def _response_in_progress(self) -> bool: ...

    def _await_headers(self) -> None:
        if self._header_timer is not None or self.transport.is_closing():
            return
        self._header_timer = self.loop.call_later(LIMITS.timeout_seconds, self._headers_too_late)
        _AWAITING[self] = None
        while len(_AWAITING) > LIMITS.max_awaiting:
            next(iter(_AWAITING))._headers_too_late()

    def _headers_done(self) -> None:
        # A connection is in `_AWAITING` exactly while its timer is armed.
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
            _AWAITING.pop(self, None)

    def _headers_too_late(self) -> None:
        self._headers_done()
        if self.transport.is_closing():
            return
        if not self._response_in_progress():
            self.transport.write(TIMEOUT_408)
        self.transport.close()


class H11WithDeadline(HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol with the header deadline."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            # The first bytes of a next request on a kept-alive connection.
            self._await_headers()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._headers_done()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_done()
        super().connection_lost(exc)

    def _response_in_progress(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete


AutoHTTPProtocol: type[asyncio.Protocol]
try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools
    AutoHTTPProtocol = H11WithDeadline
else:

    class HttpToolsWithDeadline(HeaderDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol with the header deadline.

        A request whose headers arrive whole in the bytes that begin it (a poll on a
        kept-alive connection) never waits for them: the deadline is armed after
        those bytes are parsed, and only if the headers are still incomplete, not
        armed and cancelled on every request (a timer and two dictionary updates).
        Bought figure: "1 status poll, in memory / bare FastAPI"
        (`benchmarks.bench_status`; ~4% of a poll's CPU in the server, py-spy)."""

        _headers_pending = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            # Every write of the connection through one `StartWithBody` (`onewrite`).
            writes = StartWithBody(transport, self.loop)
            super().connection_made(writes)  # type: ignore[arg-type]
            self._await_headers()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._headers_pending:
                self._await_headers()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._headers_pending = True

        def on_headers_complete(self) -> None:
            self._headers_pending = False
            self._headers_done()
            # The answer's start goes out in one write with its body (`onewrite`).
            self.transport.hold_next()  # type: ignore[attr-defined]
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._headers_done()
            super().connection_lost(exc)

        def _response_in_progress(self) -> bool:
            return self.cycle is not None and not self.cycle.response_complete

    AutoHTTPProtocol = HttpToolsWithDeadline

#: What `serve` passes as uvicorn's `http` (a string: workers import it).
HTTP_PROTOCOL = "algomancy_api.slowclients:AutoHTTPProtocol"
