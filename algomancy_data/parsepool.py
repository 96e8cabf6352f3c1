"""A small pool of child processes that parse untrusted files within limits.

A spreadsheet reader can be asked for more memory than the machine has (a dense
grid of 2^34 cells) and a native reader aborts the whole process when an
allocation fails. So workbooks are parsed in child processes: each task runs
under an address-space limit (``RLIMIT_AS``) and a CPU-time limit
(``RLIMIT_CPU``), and the parent waits at most a wall-clock deadline. A child
that dies (an allocation refused, the CPU limit hit) or outlives its deadline, or
whose caller gives up (`cancel`), is killed and replaced by a fresh one; the
caller gets `LimitExceeded` naming the limit. The server process never parses.

The children are fresh interpreters (``python -m algomancy_data.parseworker``),
never forked from the (threaded) server, and reused: at most `workers` tasks run
at once; more wait for a free child until their deadline. A child serves at most `TASKS_PER_WORKER`
tasks before it is replaced, so that what a parse leaves fragmented is returned.
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import logging
import multiprocessing.connection
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from algomancy_data.answers import recv_answer
from algomancy_data.limits import (
    DEFAULT_PARSE_MEMORY_BYTES as DEFAULT_MEMORY_BYTES,
)
from algomancy_data.limits import (
    DEFAULT_PARSE_SECONDS as DEFAULT_SECONDS,
)
from algomancy_data.limits import LimitExceeded

DEFAULT_WORKERS = 2
log = logging.getLogger(__name__)
TASKS_PER_WORKER = 50
#: How often a waiting caller looks at its `cancel` event.
_POLL_SECONDS = 0.2

#: A caller's "give up" event, set by whoever learns the client left; read by
#: `ParsePool.run` in the same thread (a context variable, so that the layers
#: between the HTTP route and the file reader need not pass it along).
cancel_event: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "algomancy_parse_cancel", default=None
)


#: How a process ends when an allocation fails: a native abort, the kernel's OOM
#: killer, a segmentation fault on a failed allocation.
_MEMORY_SIGNALS = {signal.SIGABRT, signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS}


def _child_environment() -> dict[str, str]:
    """This process's environment, with its import path (the child imports the
    task's function by name), without Rust backtraces on an abort, and without
    `PROMETHEUS_MULTIPROC_DIR`: a child that loads the server's configuration imports
    its metrics, and would add a process of its own to the server's (gunicorn's
    workers') gauges."""
    path = [entry or os.getcwd() for entry in sys.path]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "RUST_BACKTRACE": "0"}
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return environment


class _Worker:
    """A child running `algomancy_data.parseworker`, talked to over a socket pair."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "algomancy_data.parseworker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=_child_environment(),
            )
        self.connection = multiprocessing.connection.Connection(ours.detach())
        self.tasks = 0

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        self.connection.close()


class ParsePool:
    """At most `workers` child processes running parse tasks, reused."""

    def __init__(self, workers: int = DEFAULT_WORKERS) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError("workers: must be a positive integer")
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        #: Children killed or lost so far (for tests and metrics).
        self.replaced = 0

    def run(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        seconds: int = DEFAULT_SECONDS,
        cancel: threading.Event | None = None,
    ) -> Any:
        """`function(*args)` in a child within `memory_bytes` of address space and
        `seconds` of CPU time and of wall time (waiting for a free child included).
        `function` must be importable by name (the child gets this process's
        import path). Its exceptions, and a child that fails otherwise, come back
        as `RuntimeError`; the limits as `LimitExceeded` (`code` ``too_large`` for
        memory and time, ``busy`` when no child came free, ``cancelled``)."""
        cancel = cancel if cancel is not None else cancel_event.get()
        deadline = time.monotonic() + seconds
        if not self._acquire(deadline, cancel):
            if cancel is not None and cancel.is_set():
                raise LimitExceeded("parsing cancelled: the client left", code="cancelled")
            raise LimitExceeded(
                f"all {self.workers} parser processes stayed busy for {seconds} seconds "
                "(xlsx_parse_workers, xlsx_parse_seconds); retry shortly",
                code="busy",
            )
        try:
            return self._run(function, args, memory_bytes, seconds, deadline, cancel)
        finally:
            self._slots.release()

    def _acquire(self, deadline: float, cancel: threading.Event | None) -> bool:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or (cancel is not None and cancel.is_set()):
                return False
            if self._slots.acquire(timeout=min(left, _POLL_SECONDS)):
                return True

    def _run(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        memory_bytes: int,
        seconds: int,
        deadline: float,
        cancel: threading.Event | None,
    ) -> Any:
        worker = self._take()
        keep = False
        try:
            worker.tasks += 1
            worker.connection.send((function, args, memory_bytes, seconds))
            while not worker.connection.poll(_POLL_SECONDS):
                if cancel is not None and cancel.is_set():
                    raise LimitExceeded("parsing cancelled: the client left", code="cancelled")
                if time.monotonic() > deadline:
                    raise _over_time(seconds)
            try:
                status, value = recv_answer(worker.connection)
            except (EOFError, OSError):
                raise self._died(worker, memory_bytes, seconds) from None
            keep = True
        finally:
            self._give(worker, keep)
        if status == "ok":
            return value
        if status == "memory":
            raise _out_of_memory(memory_bytes)
        raise RuntimeError(value)

    def _died(self, worker: _Worker, memory_bytes: int, seconds: int) -> Exception:
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(5)
        code = worker.process.returncode
        if code == -signal.SIGXCPU:
            return _over_time(seconds)
        if code is not None and -code in _MEMORY_SIGNALS:
            return _out_of_memory(memory_bytes, code)
        return RuntimeError(f"the parser process failed (exit code {code}); see the server log")

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RuntimeError("the parse pool is closed")
            while self._idle:
                worker = self._idle.pop()
                if worker.alive():
                    return worker
                worker.kill()
                self.replaced += 1
        return _Worker()

    def _give(self, worker: _Worker, keep: bool) -> None:
        with self._lock:
            if keep and not self._closed and worker.tasks < TASKS_PER_WORKER:
                self._idle.append(worker)
                return
        if not keep:
            self.replaced += 1
        worker.kill()
        if not keep:
            log.warning(
                "parser process %d stopped mid-task (exit code %s); it is replaced",
                worker.process.pid,
                worker.process.returncode,
                extra={"event": "parser-replaced"},
            )

    def close(self) -> None:
        """Stop every idle child; busy ones stop when their task ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


def _over_time(seconds: int) -> LimitExceeded:
    return LimitExceeded(
        f"parsing took more than {seconds} seconds; the limit (xlsx_parse_seconds) is {seconds}",
        code="too_large",
    )


def _out_of_memory(memory_bytes: int, exitcode: int | None = None) -> LimitExceeded:
    how = ""
    if exitcode is not None and exitcode < 0:
        how = f" (the parser process was ended by {signal.Signals(-exitcode).name})"
    elif exitcode is not None:
        how = f" (the parser process ended with code {exitcode})"
    return LimitExceeded(
        f"parsing needed more memory than the limit (xlsx_parse_memory_bytes) of "
        f"{memory_bytes} bytes{how}",
        code="too_large",
    )


_shared: ParsePool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> ParsePool:
    """The process's pool (created on first use with `DEFAULT_WORKERS`)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ParsePool()
        return _shared


def configure_shared_pool(workers: int) -> ParsePool:
    """Size the process's pool: the old one (if any) is closed and replaced when its
    size differs."""
    global _shared
    with _shared_lock:
        if _shared is not None and _shared.workers == workers:
            return _shared
        old, _shared = _shared, ParsePool(workers)
    if old is not None:
        old.close()
    return _shared


@atexit.register
def _close_shared() -> None:
    if _shared is not None:
        _shared.close()
