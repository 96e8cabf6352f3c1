"""Work a request hands to a worker thread: a deadline, and a stop when the client
leaves.

`run_bounded(request, seconds, field, work, *args)` runs `work(*args, stop)` in a
worker thread, where `stop` is a `threading.Event`. The request waits at most
`seconds`: past them `stop` is set and the request is answered 503 naming `field`
(the configuration field that sets the deadline). When the client disconnects
first, `stop` is set too and nothing is answered (nobody is listening). A thread
cannot be killed: the work sees `stop` at its next check (between files, before
storing) and returns early; whatever runs it in a child process may terminate the
child instead.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request
from starlette.exceptions import HTTPException

from algomancy_api.disconnect import until_disconnect

T = TypeVar("T")


class Stopped(Exception):
    """Raised by work that saw its `stop` event set."""


class ClientLeft(HTTPException):
    """The client disconnected before the work ended (nginx's 499; nobody reads it)."""

    def __init__(self) -> None:
        super().__init__(status_code=499, detail="the client closed the connection")


async def run_bounded(
    request: Request,
    seconds: float,
    field: str,
    work: Callable[..., T],
    *args: object,
) -> T:
    """`work(*args, stop)` in a worker thread, within `seconds` and while the
    client stays (see the module's docstring)."""
    stop = threading.Event()
    left = False
    outcome: list[tuple[T | None, Exception | None]] = []

    async def watch_disconnect(scope: anyio.CancelScope) -> None:
        nonlocal left
        await until_disconnect(request)
        left = True
        scope.cancel()

    call = functools.partial(work, *args, stop)
    with anyio.move_on_after(seconds) as deadline, anyio.CancelScope() as gone:
        async with anyio.create_task_group() as group:
            group.start_soon(watch_disconnect, gone)
            try:
                outcome.append((await anyio.to_thread.run_sync(call, abandon_on_cancel=True), None))
            except Exception as failure:  # raised below, outside the task group
                outcome.append((None, failure))
            group.cancel_scope.cancel()
    if outcome:
        value, error = outcome[0]
        if error is not None:
            raise error
        return value  # type: ignore[return-value]
    stop.set()
    if left:
        raise ClientLeft()
    assert deadline.cancelled_caught
    raise HTTPException(
        503,
        f"the work took longer than {seconds:g} s ({field}) and was stopped; "
        "nothing is stored unless it was already being stored",
    )
