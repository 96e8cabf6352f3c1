"""`traced`: the SQL statements of every sqlite3 connection a test opens, with the
thread that ran each (the statement-count tests of the core and of the HTTP layer)."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest

#: `(thread name, statement)`, whitespace collapsed.
Trace = list[tuple[str, str]]


@pytest.fixture
def traced(monkeypatch: pytest.MonkeyPatch) -> Trace:
    """`(thread name, statement)` of every statement on a sqlite3 connection opened
    from now on (the store's readers and writer, SQLAlchemy's pool)."""
    seen: Trace = []
    connect = sqlite3.connect

    def tracing_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)
        conn.set_trace_callback(
            lambda sql: seen.append((threading.current_thread().name, " ".join(sql.split())))
        )
        return conn

    monkeypatch.setattr(sqlite3, "connect", tracing_connect)
    return seen
