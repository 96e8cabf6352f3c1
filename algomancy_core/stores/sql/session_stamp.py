"""Session look-ups kept on SQLite while no process has written a session (or a
pinned baseline) since.

Every request names its session, by id or display name (`SessionManager.get_session`
-> `Store.get_session` / `Store.find_session`), and on SQLite that read runs on the
event loop (reads inline). It is one small SELECT, but sqlite3 gives up the GIL for
it and the loop then waits to get it back behind the request, dispatcher and run
threads: the loop stalls on it twice per scenario in "11 create+run+complete, HTTP:
SQLite / in memory" (`benchmarks.bench_scenarios`, whose docstring has the figures
this buys). Kept look-ups answer it without reading. So does the answer to a run
request its session's pinned baseline (`Store.get_baseline`): read right after the
request's commit has woken the dispatcher, it waited ~0.8 ms for the GIL.

The stamp (`SessionStamp`): 8 bytes in a file beside the database (``<db>-sessions``),
mapped into memory (shared) by every process that opens the store; reading it is a
memory read, no system call and no GIL given up. Every session write of any process
(create, rename, delete, pin: `SessionRepository`) puts a fresh random stamp there
after it commits (and once before it starts). A look-up kept at stamp t is answered
again only while the file still holds t: a look-up that read the old row before a
write's commit was kept at a stamp that the write's last stamp replaces. Processes
sharing one SQLite file are on one host (SQLite's own rule), so they share the
mapping. A process that dies between its commit and its last stamp could leave a
look-up kept at its first one: look-ups are also kept `KEPT_SECONDS` at most.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")
#: The longest a look-up is kept, whatever the stamp says.
KEPT_SECONDS = 2.0
#: Look-ups kept at once (names asked for that do not exist are kept too).
KEPT_LOOKUPS = 256

_SIZE = 8


class SessionStamp:
    """The shared stamp of the sessions table of one SQLite file (see the module)."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _SIZE:
                os.ftruncate(fd, _SIZE)
            self._map: mmap.mmap | None = mmap.mmap(fd, _SIZE)
        finally:
            os.close(fd)
        self.path = path

    def read(self) -> bytes | None:
        """The stamp now (None once closed)."""
        mapped = self._map
        if mapped is None:
            return None
        try:
            return mapped[:_SIZE]
        except ValueError:  # closed meanwhile
            return None

    def change(self) -> None:
        """A session write: a stamp no look-up was kept at."""
        mapped = self._map
        if mapped is not None:
            # `random` is reseeded in a forked child: processes never share a sequence.
            with contextlib.suppress(ValueError):  # closed meanwhile
                mapped[:_SIZE] = random.getrandbits(64).to_bytes(_SIZE, "little")

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around a session write: a new stamp before it and after it (committed or not)."""
        self.change()
        try:
            yield
        finally:
            self.change()

    def close(self) -> None:
        mapped, self._map = self._map, None
        if mapped is not None:
            mapped.close()


class KeptSessions(Generic[T]):
    """Look-ups of what the stamp covers by key (a session by `("id", id)` or
    `("name", owner, display name)`, a session's pinned baseline by its id), each
    answered again while the stamp it was read at holds."""

    def __init__(self, stamp: SessionStamp) -> None:
        self.stamp = stamp
        self._kept: dict[tuple[str, ...], tuple[bytes, float, T | None]] = {}

    def get(self, key: tuple[str, ...]) -> tuple[bytes | None, T | None, bool]:
        """`(stamp, record, found)`: the stamp read now (pass it to `keep`), and the
        kept record if `found`."""
        now = self.stamp.read()
        kept = self._kept.get(key)
        if kept is not None and kept[0] == now and time.monotonic() < kept[1]:
            return now, kept[2], True
        return now, None, False

    def keep(self, stamp: bytes | None, key: tuple[str, ...], record: T | None) -> None:
        """Keep `record`, read after `stamp` was."""
        if stamp is None:
            return
        if len(self._kept) >= KEPT_LOOKUPS:
            self._kept = {}
        self._kept[key] = (stamp, time.monotonic() + KEPT_SECONDS, record)
