"""A client leaving: the one way the server's long answers notice it.

A stream (`GET …/events`, `GET …/scenarios/{id}/events`) or a bounded piece of work
(`deadlines.run_bounded`) watches for the ASGI `http.disconnect` in a task of its
own, once the request's body is read, instead of `Request.is_disconnected` (whose
instant cancel scope can leak a cancellation into the caller).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends
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


async def _stream_hold() -> AsyncIterator[AsyncExitStack]:
    """What a stream holds (its subscription, its disconnect watcher, its count in the
    metrics), released when its request ends, however it ends.

    The stream's own `finally` cannot do it: when the client leaves, FastAPI's SSE
    keep-alive task can fail (`anyio.BrokenResourceError`) while the stream's
    generator is parked at a `yield`; the producer is then cancelled outside the
    generator, and nothing but the garbage collector closes it (held for a minute
    and more once the error's traceback makes a cycle). A dependency's exit runs on
    the request's own exit stack, after FastAPI's SSE producer has stopped."""
    async with AsyncExitStack() as hold:
        yield hold


#: A stream route's parameter: `hold: StreamHold`.
StreamHold = Annotated[AsyncExitStack, Depends(_stream_hold)]


class Wakeable(Protocol):
    def wake(self) -> None: ...


S = TypeVar("S", bound=Wakeable)


async def follow_until_gone(
    hold: AsyncExitStack, request: Request, subscription: AbstractAsyncContextManager[S]
) -> tuple[S, asyncio.Task[None]]:
    """`subscription` entered and a watcher of the client leaving started (it wakes
    the subscription), both released by `hold` when the request ends."""
    entered = await hold.enter_async_context(subscription)
    watcher = watch_disconnect(request, entered.wake)
    hold.callback(watcher.cancel)
    return entered, watcher
