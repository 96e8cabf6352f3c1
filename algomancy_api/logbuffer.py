"""Recent log lines in memory, for the admin log page (`GET {prefix}/admin/logs`).

One `RingBuffer` handler per process sits on our loggers and uvicorn's (`LOGGERS`),
whatever else logs them (stderr, files); it keeps the last `capacity` records as
dicts. uvicorn's access lines reach it with their query credentials already
redacted (`logs.RedactQuery` is a filter of that logger, applied before handlers).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
from typing import Any

LOGGERS = ("algomancy", "uvicorn.error", "uvicorn.access")
LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}
#: A line longer than this is cut (a traceback can be long).
MAX_LINE_CHARS = 8000


class RingBuffer(logging.Handler):
    """Keeps the last `capacity` records, numbered from 1 in the order they came."""

    def __init__(self, capacity: int) -> None:
        super().__init__(logging.DEBUG)
        self._lines: collections.deque[dict[str, Any]] = collections.deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._count = 0

    @property
    def capacity(self) -> int:
        return self._lines.maxlen or 0

    def resize(self, capacity: int) -> None:
        with self._lock:
            if capacity != self.capacity:
                self._lines = collections.deque(self._lines, maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
        except Exception:  # a broken format string must not break logging
            message = str(record.msg)
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": message[:MAX_LINE_CHARS],
        }
        with self._lock:
            self._count += 1
            line["seq"] = self._count
            self._lines.append(line)

    def lines(
        self,
        *,
        level: str | None = None,
        contains: str | None = None,
        logger: str | None = None,
        after: int = 0,
        limit: int = 200,
    ) -> dict[str, Any]:
        """The newest `limit` lines at `level` or above, from loggers whose name
        starts with `logger`, whose message holds `contains` (case-insensitive),
        numbered after `after`; oldest first."""
        floor = LEVELS[level] if level else 0
        needle = contains.casefold() if contains else None
        with self._lock:
            kept = list(self._lines)
            total = self._count
        picked = [
            line
            for line in kept
            if line["seq"] > after
            and logging.getLevelName(line["level"]) >= floor
            and (logger is None or line["logger"].startswith(logger))
            and (needle is None or needle in line["message"].casefold())
        ]
        return {"lines": picked[-limit:], "total": total, "capacity": self.capacity}


_lock = threading.Lock()
_buffer: RingBuffer | None = None


def log_buffer(capacity: int) -> RingBuffer:
    """The process's buffer, holding `capacity` lines, on each of `LOGGERS` (again:
    a logging configuration applied since, such as uvicorn's, drops the handlers of
    the loggers it names). Which lines reach it is up to the loggers' levels."""
    global _buffer
    with _lock:
        if _buffer is None:
            _buffer = RingBuffer(capacity)
        else:
            _buffer.resize(capacity)
        for name in LOGGERS:
            target = logging.getLogger(name)
            if _buffer not in target.handlers:
                target.addHandler(_buffer)
        return _buffer
