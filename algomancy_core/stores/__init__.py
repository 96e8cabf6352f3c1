"""Stores: where state lives. Chosen by configuration in `build_store`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from algomancy_core.stores.base import SessionRecord, Store
from algomancy_core.stores.memory import MemoryStore

if TYPE_CHECKING:
    from algomancy_core.config import CoreConfig

SQLITE_FILE = "algomancy.sqlite3"


def store_url(config: CoreConfig) -> str | None:
    """The SQLAlchemy URL the configuration asks for, or None for memory."""
    if config.database_url:
        return config.database_url
    if config.has_persistent_state:
        path = Path(config.data_path).expanduser().resolve()
        return f"sqlite:///{path / SQLITE_FILE}"
    return None


def build_store(config: CoreConfig) -> Store:
    """The store for `config`: memory, or SQL (SQLite file or PostgreSQL)."""
    url = store_url(config)
    if url is None:
        return MemoryStore()
    from algomancy_core.stores.sql import SQLStore

    return SQLStore(url, data_path=Path(config.data_path), data_object_type=config.data_object_type)


__all__ = ["MemoryStore", "SessionRecord", "Store", "build_store", "store_url"]
