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
        last = [""]

        def trace(sql: str) -> None:
            sql = " ".join(sql.split())
            # Python's trace reports each statement a trigger runs as the UPDATE that
            # fired it (`stores/sql/triggers.py`): one call, one entry. The same
            # UPDATE twice in a row on one connection is nothing else (its values
            # include the time it stamps).
            if sql == last[0] and sql.startswith("UPDATE "):
                return
            last[0] = sql
            seen.append((threading.current_thread().name, sql))

        conn.set_trace_callback(trace)
        return conn

    monkeypatch.setattr(sqlite3, "connect", tracing_connect)
    return seen
