"""A closed SQL store leaves no connection open, even one in use while it closed or
opened after it (a run ending late records its outcome). Such a connection used to
stay open until the garbage collector dropped it, and psycopg then warns
(ResourceWarning, an error under pytest) in whatever test happens to be running."""

from __future__ import annotations

import asyncio
import gc
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from algomancy_core.stores import SessionRecord
from algomancy_core.stores.sql import SQLStore
from algomancy_core.stores.sql.connections import Lender
from algomancy_core.stores.sql.database import Database
from tests.pg import postgres_server, postgres_url  # noqa: F401


@pytest.fixture
def unraisable() -> Iterator[list[str]]:
    """What the garbage collector reported while the test ran (after a collection)."""
    seen: list[str] = []
    previous = sys.unraisablehook

    def hook(args: sys.UnraisableHookArgs) -> None:
        seen.append(f"{args.exc_type.__name__}: {args.exc_value}")

    sys.unraisablehook = hook
    try:
        yield seen
    finally:
        gc.collect()
        sys.unraisablehook = previous


@pytest.mark.postgres
def test_a_connection_in_use_while_the_database_closes_is_closed_when_returned(
    postgres_url: str,  # noqa: F811
) -> None:
    db = Database(postgres_url)
    conn = db.engine.connect()
    conn.exec_driver_sql("SELECT 1")
    raw = conn.connection.dbapi_connection
    db.close()
    assert raw is not None and not raw.closed
    conn.close()
    assert raw.closed


@pytest.mark.postgres
def test_a_connection_opened_after_close_is_closed_when_returned(
    postgres_url: str,  # noqa: F811
) -> None:
    db = Database(postgres_url)
    db.close()
    with db.read() as conn:
        conn.exec_driver_sql("SELECT 1")
        raw = conn.connection.dbapi_connection
    assert raw is not None and raw.closed


@pytest.mark.postgres
def test_a_store_used_after_close_leaves_nothing_for_the_collector(
    postgres_url: str,  # noqa: F811
    unraisable: list[str],
) -> None:
    store = SQLStore(postgres_url)
    record = SessionRecord(
        id=str(uuid.uuid4()), display_name="s", created_at=datetime.now(UTC), owner=None
    )
    store.create_session(record)

    async def reads(store: SQLStore) -> None:
        assert await store.get_scenario_progress_async("nope") is None
        store.close()
        # Late calls: a write (a run's outcome) and a poll on the same event loop.
        store.rename_session(record.id, "late")
        assert await store.get_scenario_progress_async("nope") is None

    asyncio.run(reads(store))
    del store
    gc.collect()
    assert unraisable == []


class Closable:
    closed = False

    def close(self) -> None:
        self.closed = True


def test_a_lender_closes_a_connection_given_back_after_close() -> None:
    lender: Lender[Closable] = Lender(Closable, keep=2)
    conn = lender.take()
    lender.close()
    lender.give_back(conn)
    assert conn.closed
