"""A client leaving: the one way the server's long answers notice it.

A stream (`GET …/events`, `GET …/scenarios/{id}/events`) or a bounded piece of work
(`deadlines.run_bounded`) watches for the ASGI `http.disconnect` in a task of its
own, once the request's body is read, instead of `Request.is_disconnected` (whose
instant cancel scope can leak a cancellation into the caller).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request


async def until_disconnect(request: Request) -> None:
    """Return when the client of `request` has gone (its body is read by now: the
    next message that matters is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        continue


def watch_disconnect(request: Request, wake: Callable[[], None]) -> asyncio.Task[None]:
    """A task that calls `wake()` when the client of `request` goes (a stream's
    subscription wakes and sees `task.done()`); cancel it when the stream ends."""

    async def watch() -> None:
        await until_disconnect(request)
        wake()

    return asyncio.create_task(watch())
