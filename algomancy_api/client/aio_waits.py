"""Following something until its `status` ends, for the clients' waits
(`wait_experiment`, `wait_study`). `sync_waits` is generated
from this file (`python scripts/unasync_client.py`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from typing import Protocol, TypeVar

from algomancy_api.client.deadline import Deadline


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...


S = TypeVar("S", bound=HasStatus)


async def poll_until_ended(
    read: Callable[[], Awaitable[S]],
    ended: Collection[str],
    subject: str,
    timeout: float | None,
    interval: float,
) -> S:
    """`read()` every `interval` seconds until its `status` is one of `ended`;
    TimeoutError naming `subject` after `timeout` seconds."""
    deadline = Deadline(subject, timeout)
    while True:
        current = await read()
        if current.status in ended:
            return current
        deadline.check()
        await asyncio.sleep(interval)
