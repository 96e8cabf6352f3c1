"""`database_url`: the SQLAlchemy URLs our stores run with, and a clear error for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from algomancy_core import ConfigurationError, CoreConfig
from algomancy_core.stores import build_store
from algomancy_core.stores.sql import SQLStore


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///state.db",
        "sqlite:////var/lib/algomancy/state.db",
        "sqlite+pysqlite:///state.db",
        "sqlite:///file:state.db?mode=rwc&uri=true",
        "postgresql://user:secret@db.internal:5432/algomancy",
        "postgres://db/algomancy",
        "postgresql+psycopg://user@db/algomancy",
    ],
)
def test_supported_urls_are_accepted(url: str) -> None:
    assert CoreConfig(database_url=url).database_url == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://user@db/algomancy", "'mysql' databases are not supported"),
        ("mssql+pyodbc://db/algomancy", "'mssql' databases are not supported"),
        ("postgresql+psycopg2://db/algomancy", "the driver 'psycopg2' is not supported"),
        ("postgresql+asyncpg://db/algomancy", "the driver 'asyncpg' is not supported"),
        ("sqlite://", "needs a file path"),
        ("sqlite:///:memory:", "needs a file path"),
        ("sqlite://host/state.db", "has no host"),
        ("state.db", "not a SQLAlchemy URL"),
        ("/var/lib/state.db", "not a SQLAlchemy URL"),
    ],
)
def test_other_urls_are_refused_naming_what_to_write(url: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^database_url: ") as caught:
        CoreConfig(database_url=url)
    assert says in str(caught.value)
    assert "sqlite:///" in str(caught.value) or "postgresql+psycopg://" in str(caught.value)


def test_a_sqlite_file_url_keeps_state_in_that_file(tmp_path: Path) -> None:
    database = tmp_path / "elsewhere" / "state.db"
    store = build_store(CoreConfig(database_url=f"sqlite:///{database}", data_path=tmp_path))
    try:
        assert isinstance(store, SQLStore)
        assert database.is_file()
    finally:
        store.close()
