"""`StartWithBody`: an answer's status line and headers sent in the same write as
its body (issue 23, "scenario lists at the limit").

uvicorn (0.55, httptools) writes an answer's status line and headers to the socket
as soon as the app sends `http.response.start`, and its body in a second `write`
when `http.response.body` comes, which for a response made whole (every JSON answer)
is in the same step of the event loop. Two `send` syscalls, so on loopback two TCP
segments (uvicorn sets `TCP_NODELAY`): the client wakes for the headers alone, then
reads again for the body. `StartWithBody` stands in for a connection's transport
(the protocol's and every request cycle's): when a request's headers are complete
the protocol asks it to hold the next write (the answer's start), and the write
after it goes out with it in one `writelines` (uvloop: one `writev`, nothing
copied). If no body follows within the step (a streamed answer that waits for its
first chunk, a `100 Continue`), the held bytes are written at the next step of the
loop (`call_soon`), and before the transport is closed; so no client waits for its
headers longer than one turn of the loop. Every write of the connection goes
through it, so nothing overtakes held bytes; a transport that is closing gets
nothing, as uvicorn itself writes nothing to a closed connection.

What py-spy showed (``-r 1000 --idle``, the server while a loop GETs the 0.41 MB
summary of 1,000 scenarios): the `write` of the headers was ~11% of the event loop's
busy samples, more than the body's (~8%). Bought figure: "GET scenarios, summary
(1000 of 1,000, 0.41 MB), server CPU per request / orjson.dumps"
(`python -m benchmarks.lists`; the figures are in its docstring).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


class StartWithBody:
    """A connection's transport whose next write after `hold_next` is held for the
    write after it (see the module's docstring); every write of the connection goes
    through it, so nothing overtakes held bytes. Every other attribute is the
    transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._hold = False
        self._held: bytes | None = None

    def hold_next(self) -> None:
        """Hold the next write (a request's answer is about to start)."""
        self._hold = True

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.writelines((held, data))
        elif self._hold:
            self._hold = False
            self._held = data
            self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def writelines(self, parts: Iterable[bytes]) -> None:
        held = self._held
        if held is not None:
            self._held = None
            parts = (held, *parts)
        self._transport.writelines(parts)

    def flush(self) -> None:
        """Write the held bytes, if any (and the transport still takes writes)."""
        held = self._held
        if held is None:
            return
        self._held = None
        if not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
