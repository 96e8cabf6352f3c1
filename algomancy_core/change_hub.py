"""`ChangeHub`: records changes, and fans the feed out to this process's streams.

One poller thread per process (started by the first subscriber) reads the store's
new changes, at once when this process recorded one and otherwise every
`POLL_SECONDS` on a shared store (to see other processes' changes), and hands
each to the subscribers of its session on their own event loops. Each subscriber
buffers at most `BUFFER_LIMIT` changes; one that falls further behind is told to
reload (`overflowed`) instead of buffering without end.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from algomancy_core.changes import Change, ChangeEntry
from algomancy_core.stores.base import Store

log = logging.getLogger("algomancy.changes")

#: How often the poller reads a shared store for other processes' changes.
POLL_SECONDS = 0.25
#: Changes read per query; a longer backlog is read in several.
BATCH = 500
#: Changes a subscriber may have waiting before it is told to reload.
BUFFER_LIMIT = 1000


class ChangeSubscription:
    """A stream's place in the hub: `async with hub.subscribe(sid) as sub`."""

    def __init__(self, hub: ChangeHub, session_id: str) -> None:
        self.hub = hub
        self.session_id = session_id
        self._buffer: list[Change] = []
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        #: Set when more than `BUFFER_LIMIT` changes waited: some were dropped.
        self.overflowed = False

    async def __aenter__(self) -> ChangeSubscription:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.hub._add, self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.hub._remove(self)

    def _deliver(self, changes: list[Change]) -> None:
        """On the subscriber's loop: keep `changes`, or overflow."""
        if self.overflowed:
            return
        if len(self._buffer) + len(changes) > BUFFER_LIMIT:
            self.overflowed = True
            self._buffer.clear()
        else:
            self._buffer.extend(changes)
        self._event.set()

    def push(self, changes: list[Change]) -> bool:
        """From the poller: False when the subscriber's loop is gone."""
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._deliver, changes)
        except RuntimeError:
            return False
        return True

    def recover(self) -> None:
        """After an overflow: follow on from the next delivery."""
        self._buffer.clear()
        self._event.clear()
        self.overflowed = False

    def wake(self) -> None:
        """Wake `wait` now (from the subscriber's own loop)."""
        self._event.set()

    async def wait(self, timeout: float) -> list[Change]:
        """The changes delivered since the last call; empty after `timeout`
        seconds without any (or when woken, or overflowed)."""
        if not self._buffer and not self.overflowed:
            try:
                await asyncio.wait_for(self._event.wait(), timeout)
            except TimeoutError:
                return []
        self._event.clear()
        taken, self._buffer = self._buffer, []
        return taken


class ChangeHub:
    """The change feed of one process: `record` appends, `subscribe` follows."""

    def __init__(self, store: Callable[[], Store]) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[ChangeSubscription]] = {}
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        #: The latest seq handed to subscribers (meaningful while there are some).
        self._last_seq = 0

    # -- recording -----------------------------------------------------------
    def record(self, session_id: str, kind: str, subject: str, payload: dict[str, Any]) -> None:
        """Append a change to the feed: `record_many` of one."""
        self.record_many([(session_id, kind, subject, payload)])

    def record_many(self, changes: list[ChangeEntry]) -> None:
        """Append `changes` to the feed, in one append and one wake. The changes they
        describe are made already: a failure to record them is logged, never raised."""
        if not changes:
            return
        try:
            self._store().append_changes(changes)
        except Exception:
            log.exception("could not record %d changes (the first %s)", len(changes), changes[0][1])
            return
        self._wake.set()

    def wake(self) -> None:
        """A change was appended (by the store itself): read the feed now."""
        self._wake.set()

    # -- following -----------------------------------------------------------
    def subscribe(self, session_id: str) -> ChangeSubscription:
        return ChangeSubscription(self, session_id)

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subscribers.values())

    def _add(self, subscription: ChangeSubscription) -> None:
        """Register (blocking: may read the store). Every change after the moment
        of registration reaches `subscription`; earlier ones are its own to replay."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the change hub is closed")
            if not any(self._subscribers.values()):
                # The poller skipped reads while nobody listened: start from now.
                self._last_seq = self._store().change_bounds()[1]
            self._subscribers.setdefault(subscription.session_id, set()).add(subscription)
            if self._thread is None or not self._thread.is_alive():
                # (Not alive: started before this process was forked.)
                self._thread = threading.Thread(
                    target=self._poll_forever, name="algomancy-changes", daemon=True
                )
                self._thread.start()

    def _remove(self, subscription: ChangeSubscription) -> None:
        with self._lock:
            found = self._subscribers.get(subscription.session_id)
            if found is not None:
                found.discard(subscription)
                if not found:
                    del self._subscribers[subscription.session_id]

    def _poll_forever(self) -> None:
        shared = self._store().shared
        while True:
            self._wake.wait(POLL_SECONDS if shared else None)
            self._wake.clear()
            if self._closed:
                return
            try:
                self.poll()
            except Exception:
                log.exception("reading the change feed failed; trying again")

    def poll(self) -> None:
        """Read the new changes and hand them to their sessions' subscribers."""
        while True:
            with self._lock:
                if not any(self._subscribers.values()):
                    return
                after = self._last_seq
            changes = self._store().read_changes(after, BATCH)
            if not changes:
                return
            with self._lock:
                if self._last_seq != after:  # reset meanwhile by a first subscriber
                    continue
                self._last_seq = changes[-1].seq
                by_session: dict[str, list[Change]] = {}
                for change in changes:
                    by_session.setdefault(change.session_id, []).append(change)
                targets = [
                    (sub, by_session[sid])
                    for sid, subs in self._subscribers.items()
                    if sid in by_session
                    for sub in subs
                ]
            for subscription, delivered in targets:
                if not subscription.push(delivered):
                    self._remove(subscription)
            if len(changes) < BATCH:
                return

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(5)
