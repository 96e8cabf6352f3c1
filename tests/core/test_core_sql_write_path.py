"""What the SQL store's write path spares (issue 23, "create+run+complete over HTTP
on SQLite"): a claim with nothing queued takes no write transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from algomancy_core.scenario import plan_claim, utcnow
from algomancy_core.stores.sql import SQLStore
from tests.pg import postgres_server, postgres_url  # noqa: F401

from .test_core_stores import new_scenario, new_session, queue, sql_url  # noqa: F401


@pytest.fixture
def sql_store(sql_url: str) -> Iterator[SQLStore]:  # noqa: F811
    opened = SQLStore(sql_url)
    yield opened
    opened.close()


def count_transactions(store: SQLStore, monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """One entry per write transaction the store's dialect opens from now on."""
    dialect = store.db.dialect
    opened: list[None] = []
    real = dialect.transaction

    def counted(*args: Any, **kwargs: Any) -> Any:
        opened.append(None)
        return real(*args, **kwargs)

    monkeypatch.setattr(dialect, "transaction", counted)
    return opened


def claim(store: SQLStore, *, batch_only: bool = False) -> Any:
    return store.claim_next(plan_claim("me", utcnow() + timedelta(minutes=5)), batch_only)


def test_a_claim_with_nothing_queued_writes_nothing(
    sql_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session(sql_store)
    new_scenario(sql_store, session.id, "created, not queued")
    opened = count_transactions(sql_store, monkeypatch)
    assert claim(sql_store) is None
    assert opened == []


def test_a_batch_claim_with_only_own_scenarios_queued_writes_nothing(
    sql_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session(sql_store)
    queue(sql_store, new_scenario(sql_store, session.id, "own").id)
    opened = count_transactions(sql_store, monkeypatch)
    assert claim(sql_store, batch_only=True) is None
    assert opened == []
    claimed = claim(sql_store)  # the own scenario is still there to claim
    assert claimed is not None and claimed.tag == "own"
    assert len(opened) == 1
