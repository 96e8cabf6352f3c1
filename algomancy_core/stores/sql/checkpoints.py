"""Checkpoints of the SQLite write-ahead log, off the commit path.

SQLite folds the log back into the database file (a checkpoint: the log's pages
copied, and with synchronous=NORMAL two fsyncs) inside the COMMIT that takes the log
past `wal_autocheckpoint` pages (1,000 by default), so every ~70th write of the store
(create, run request, claim, completion: ~14 pages each) waited for one while
holding the write lock, and every writer behind it waited too.

Profiled in process (`benchmarks.bench_scenarios`' in-process SQLite round, 1,000
scenarios, a timer around each statement): 70-77 of 5,000 COMMITs took > 2 ms and
were 514-523 ms of the 713-718 ms all COMMITs took; with the writer's automatic
checkpoint off, 19-20 (79-98 ms: the scheduler). So the writer's checkpoints move to
a thread of their own: the writer's `wal_autocheckpoint` is raised to
`FALLBACK_PAGES` (a bound on the log should this thread fall behind), and after
every `COMMITS_PER_CHECKPOINT` commits of this process's writer the thread runs a
PASSIVE checkpoint (which waits for no reader and no writer) on a connection of its
own. Buys "11 create+run+complete x1000, in process: SQLite" and "..., HTTP: SQLite
/ in memory" (figures in benchmarks/bench_scenarios.py).

Durability is unchanged: a commit is in the log (written, not yet fsynced, as
before with synchronous=NORMAL) when COMMIT returns, and a process crash loses no
commit whether or not a checkpoint ran; a checkpoint still fsyncs the log before
copying it. A clean close still checkpoints everything into the main file
(`SQLiteDialect.on_close`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

from algomancy_core.stores.sql.connections import forget_after_fork

log = logging.getLogger("algomancy.store")

#: Commits of this process's writer between two background checkpoints (~1,400
#: pages of the store's writes, ~5.6 MB of log).
COMMITS_PER_CHECKPOINT = 100

#: The writer connections' own `wal_autocheckpoint` (pages): reached only when the
#: background checkpoints fall behind (~40 MB of log).
FALLBACK_PAGES = 10_000


class Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` on a thread of its own after every
    `every` commits reported by `committed` (called by the writer, under its turn).

    The thread starts with the first checkpoint asked for, and holds one connection.
    A checkpoint that fails (a full disk) is logged, and tried again `every` commits
    later, as SQLite's automatic one would be. A forked child starts its own thread
    when it needs one (threads do not survive a fork).
    """

    def __init__(
        self,
        open_connection: Callable[[], sqlite3.Connection],
        every: int = COMMITS_PER_CHECKPOINT,
    ) -> None:
        self._open = open_connection
        self._every = every
        self._commits = 0
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        #: Checkpoints run so far (what the tests observe).
        self.done = 0
        forget_after_fork(self)

    def committed(self) -> None:
        """One more commit of this process's writer. Its callers hold the write turn,
        so the count and the thread's start need no lock of their own."""
        self._commits += 1
        if self._commits < self._every or self._closed:
            return
        self._commits = 0
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="algomancy-checkpoints", daemon=True
            )
            self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._closed:
                    return
                try:
                    if conn is None:
                        conn = self._open()
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.done += 1
                except sqlite3.Error as exc:
                    log.warning("background checkpoint: %s; tried again later", exc)
        finally:
            if conn is not None:
                conn.close()

    def close(self) -> None:
        """Stop the thread (a checkpoint under way ends first)."""
        self._closed = True
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    def forget(self) -> None:
        """In a forked child: the parent's thread is not there, nor its connection."""
        self._thread = None
        self._wake = threading.Event()
        self._commits = 0
