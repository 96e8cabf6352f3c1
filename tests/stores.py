"""One store of each kind for tests parametrised over them: memory, SQLite (a file
under the test's folder) and PostgreSQL (a database of the session's server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from algomancy_core.stores import MemoryStore, Store
from algomancy_core.stores.sql import SQLStore

#: The `params` of a fixture giving one store of each kind.
STORE_KINDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def open_store(request: pytest.FixtureRequest, folder: Path) -> Store:
    """A new store of the kind `request.param` names (a fixture's of `STORE_KINDS`)."""
    if request.param == "memory":
        return MemoryStore()
    if request.param == "sqlite":
        return SQLStore(f"sqlite:///{folder / 'state' / 'algomancy.sqlite3'}")
    return SQLStore(request.getfixturevalue("postgres_url"))
