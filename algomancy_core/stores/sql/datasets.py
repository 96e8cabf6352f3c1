"""Datasets in SQL: Arrow payloads, decoded lazily and cached by version."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

import sqlalchemy as sa

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.names import dataset_taken, name_key
from algomancy_core.stores.base import DatasetInfo
from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, Database
from algomancy_core.stores.sql.schema import datasets, scenarios
from algomancy_data import DataSource

#: Decoded datasets kept per store; a dataset is decoded once per process and version.
DATASET_CACHE_SIZE = 8


# The hot reads as plain SQL (`?` for parameters; the dialect adapts them).
_POSITION = "SELECT position FROM datasets WHERE session_id = ? AND key = ?"
_PAYLOAD = "SELECT data FROM datasets WHERE session_id = ? AND key = ? AND position = ?"
_KEYS = "SELECT key FROM datasets WHERE session_id = ? ORDER BY position"
_SESSION = "SELECT 1 FROM sessions WHERE id = ?"
_INSERT = (
    "INSERT INTO datasets (session_id, key, classification, created_at, tables, data, position,"
    " name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
#: The dataset whose key is the same once normalised (`names.name_key`).
_LOOK_ALIKE = "SELECT key FROM datasets WHERE session_id = ? AND name_key = ?"

_REPLACE = (
    "UPDATE datasets SET classification = ?, created_at = ?, tables = ?, data = ?, position = ?"
    " WHERE session_id = ? AND key = ?"
)


class DatasetRepository:
    """The `datasets` table.

    The cache holds decoded datasets keyed by their `position`, which every replace
    changes; each read asks the database for the current position first, so a
    replacement made by another process is seen at once.
    """

    db: Database
    data_object_type: type[DataSource]

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[str, str, int], DataSource] = OrderedDict()
        self._cache_lock = threading.Lock()

    def put_dataset(
        self, session_id: str, key: str, data: DataSource, *, replace: bool = False
    ) -> None:
        payload = data.to_arrow_bytes()
        tables = {name: len(data.get_table(name)) for name in data.list_tables()}
        try:
            self._put(session_id, key, payload, tables, data, replace=replace)
        except INTEGRITY_ERRORS:
            # Another process added the same key between our check and our insert.
            found = self.db.dialect.query(self.db.engine, _LOOK_ALIKE, (session_id, name_key(key)))
            raise dataset_taken(key, found[0][0] if found else None) from None
        self._forget(session_id, key)

    def _put(
        self,
        session_id: str,
        key: str,
        payload: bytes,
        tables: dict[str, int],
        data: DataSource,
        *,
        replace: bool,
    ) -> None:
        # Plain SQL in the dialect's write transaction: every new session writes
        # its initial datasets, and statement building was half of that.
        dialect = self.db.dialect
        with dialect.transaction(self.db.engine) as run:
            if not run(_SESSION, (session_id,)):
                raise NotFoundError(f"session {session_id!r} not found")
            values = (
                str(data.classification),
                dialect.encode_time(data.created_at),
                json.dumps(tables),
                payload,
                # A new position: the replacement lists last and invalidates caches.
                run(dialect.next_position_sql)[0][0],
            )
            if not run(_POSITION, (session_id, key)):
                normal = name_key(key)
                found = run(_LOOK_ALIKE, (session_id, normal))
                if found:
                    raise dataset_taken(key, found[0][0])
                run(_INSERT, (session_id, key, *values, normal))
            elif replace:
                # Updated in place: the row never disappears, so a scenario being
                # added for this key at the same time never finds it missing.
                run(_REPLACE, (*values, session_id, key))
            else:
                raise dataset_taken(key)

    def get_dataset(self, session_id: str, key: str) -> DataSource:
        query = self.db.dialect.query
        # No stored key holds a NUL (PostgreSQL text cannot): not found, unasked.
        found = "\x00" not in key and query(self.db.engine, _POSITION, (session_id, key))
        if not found:
            raise NotFoundError(f"dataset {key!r} not found")
        position = int(found[0][0])
        cache_key = (session_id, key, position)
        with self._cache_lock:
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                return cached
        rows = query(self.db.engine, _PAYLOAD, (session_id, key, position))
        if not rows:  # replaced between the two reads: start over
            return self.get_dataset(session_id, key)
        payload = rows[0][0]
        data = self.data_object_type.from_arrow_bytes(bytes(payload))
        with self._cache_lock:
            self._cache[cache_key] = data
            while len(self._cache) > DATASET_CACHE_SIZE:
                self._cache.popitem(last=False)
        return data

    def _forget(self, session_id: str, key: str | None = None) -> None:
        with self._cache_lock:
            for cached in list(self._cache):
                if cached[0] == session_id and (key is None or cached[1] == key):
                    del self._cache[cached]

    def dataset_info(self, session_id: str, key: str) -> DatasetInfo:
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(
                    datasets.c.classification, datasets.c.created_at, datasets.c.tables
                ).where(datasets.c.session_id == session_id, datasets.c.key == key)
            ).first()
        if row is None:
            raise NotFoundError(f"dataset {key!r} not found")
        return DatasetInfo(
            key=key,
            classification=row.classification,
            created_at=row.created_at,
            tables=json.loads(row.tables),
        )

    def list_datasets(self, session_id: str) -> list[str]:
        rows = self.db.dialect.query(self.db.engine, _KEYS, (session_id,))
        return [row[0] for row in rows]

    def delete_dataset(self, session_id: str, key: str) -> None:
        with self.db.write() as conn:
            where = (datasets.c.session_id == session_id) & (datasets.c.key == key)
            # Locked, so that a scenario being added for it waits for this delete and
            # then finds the dataset gone (see `ScenarioRepository.add_scenario`).
            found = conn.execute(
                self.db.dialect.lock_for_update(sa.select(datasets.c.key).where(where))
            )
            if found.first() is None:
                raise NotFoundError(f"dataset {key!r} not found")
            users = conn.execute(
                sa.select(scenarios.c.tag).where(
                    scenarios.c.session_id == session_id, scenarios.c.dataset_key == key
                )
            ).scalars()
            tags = sorted(users)
            if tags:
                raise ConflictError(
                    f"dataset {key!r} is used by scenario(s) {', '.join(tags)}; delete them first"
                )
            conn.execute(sa.delete(datasets).where(where))
        self._forget(session_id, key)
        self.db.after_delete()

    def close_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()
