"""Datasets in SQL: immutable versions over content stored once per digest.

`datasets` holds one row per key (listing order, the latest version's description);
`dataset_versions` one row per version; `dataset_blobs` the Arrow payload of each
distinct content of a session, keyed by its digest. Decoded contents are cached by
digest: a version never changes, so a cached decode never goes stale.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.names import dataset_taken, name_key
from algomancy_core.stores.base import (
    DEFAULT_VERSIONS_KEPT,
    DatasetDeletion,
    DatasetVersion,
    used_versions,
    versions_to_drop,
)
from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, Database
from algomancy_core.stores.sql.rows import DATASET_VERSION
from algomancy_core.stores.versions import as_stored, as_version
from algomancy_data import DataSource, content_digest

#: Decoded contents kept per store; each is decoded once per process.
DATASET_CACHE_SIZE = 8
#: Attempts of a write that lost a race on a unique key to another process.
_ATTEMPTS = 5

_SESSION = "SELECT 1 FROM sessions WHERE id = ?"
_KEY = "SELECT position FROM datasets WHERE session_id = ? AND key = ?"
_KEYS = "SELECT key FROM datasets WHERE session_id = ? ORDER BY position"
_VERSION_COLUMNS = DATASET_VERSION.columns
_LATEST = (
    f"SELECT {_VERSION_COLUMNS} FROM dataset_versions WHERE session_id = ? AND key = ? "
    "ORDER BY version DESC LIMIT 1"
)
_VERSION = (
    f"SELECT {_VERSION_COLUMNS} FROM dataset_versions "
    "WHERE session_id = ? AND key = ? AND version = ?"
)
_VERSIONS = (
    f"SELECT {_VERSION_COLUMNS} FROM dataset_versions WHERE session_id = ? AND key = ? "
    "ORDER BY version DESC"
)
_VERSION_NUMBERS = "SELECT version FROM dataset_versions WHERE session_id = ? AND key = ?"
_PINS = "SELECT id, dataset_version FROM scenarios WHERE session_id = ? AND dataset_key = ?"
_BLOB = "SELECT data FROM dataset_blobs WHERE session_id = ? AND digest = ?"
_HAS_BLOB = "SELECT 1 FROM dataset_blobs WHERE session_id = ? AND digest = ?"
_INSERT_BLOB = "INSERT INTO dataset_blobs (session_id, digest, data) VALUES (?, ?, ?)"
_INSERT_KEY = (
    "INSERT INTO datasets (session_id, key, classification, created_at, tables, data, position,"
    " name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
#: The dataset whose key is the same once normalised (`names.name_key`).
_LOOK_ALIKE = "SELECT key FROM datasets WHERE session_id = ? AND name_key = ?"
_UPDATE_KEY = (
    "UPDATE datasets SET classification = ?, created_at = ?, tables = ?, position = ?"
    " WHERE session_id = ? AND key = ?"
)
_INSERT_VERSION = (
    f"INSERT INTO dataset_versions (session_id, {', '.join(DATASET_VERSION.names)}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_DROP_UNREFERENCED_BLOBS = (
    "DELETE FROM dataset_blobs WHERE session_id = ? AND digest NOT IN "
    "(SELECT digest FROM dataset_versions WHERE session_id = ?)"
)


class DatasetRepository:
    """The `datasets`, `dataset_versions` and `dataset_blobs` tables."""

    db: Database
    data_object_type: type[DataSource]

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[str, str], DataSource] = OrderedDict()
        self._cache_lock = threading.Lock()
        # The latest version of each (session, key) as this store last read or wrote
        # it (`latest_version_seen`): a create pins it without a read, and its write
        # checks that it still is the latest (`add_scenario(latest=True)`). One read
        # fewer per create, "11 create+run+complete, HTTP: SQLite / in memory"
        # (benchmarks/bench_scenarios.py). Bounded: one entry per dataset key read.
        self._latest: dict[tuple[str, str], DatasetVersion] = {}

    # -- writes ------------------------------------------------------------------
    def put_dataset(
        self,
        session_id: str,
        key: str,
        data: DataSource,
        *,
        replace: bool = False,
        creator: str | None = None,
        messages: list[dict[str, Any]] | None = None,
        keep: int = DEFAULT_VERSIONS_KEPT,
        digest: str | None = None,
    ) -> DatasetVersion:
        digest = digest or content_digest(data)
        payload = data.to_arrow_bytes()
        for _attempt in range(_ATTEMPTS):
            try:
                return self._put(
                    session_id, key, data, digest, payload, replace, creator, messages, keep
                )
            except INTEGRITY_ERRORS:
                # Another process added the key or the content first: look again.
                continue
        found = self.db.dialect.query(self.db.engine, _LOOK_ALIKE, (session_id, name_key(key)))
        raise dataset_taken(key, found[0][0] if found else None)

    def _put(
        self,
        session_id: str,
        key: str,
        data: DataSource,
        digest: str,
        payload: bytes,
        replace: bool,
        creator: str | None,
        messages: list[dict[str, Any]] | None,
        keep: int,
    ) -> DatasetVersion:
        dialect = self.db.dialect
        with dialect.transaction(self.db.engine) as run:
            if not run(_SESSION, (session_id,)):
                raise NotFoundError(f"session {session_id!r} not found")
            # Locked: versions of one key are numbered one writer at a time, and a
            # scenario being pinned to a version waits (see `add_scenario`).
            exists = bool(run(_KEY + dialect.for_update, (session_id, key)))
            if exists and not replace:
                raise dataset_taken(key)
            normal = name_key(key)
            if not exists:
                found = run(_LOOK_ALIKE, (session_id, normal))
                if found:
                    raise dataset_taken(key, found[0][0])
            latest = self._version_row(run(_LATEST, (session_id, key)))
            if latest is not None and latest.digest == digest:
                return latest
            if not run(_HAS_BLOB, (session_id, digest)):
                run(_INSERT_BLOB, (session_id, digest, payload))
            version = as_version(key, (latest.version if latest else 0) + 1, digest, data)
            tables = json.dumps(version.tables)
            created = dialect.encode_time(version.created_at)
            position = run(dialect.next_position_sql)[0][0]
            if exists:
                run(
                    _UPDATE_KEY,
                    (version.classification, created, tables, position, session_id, key),
                )
            else:
                row = (session_id, key, version.classification, created, tables, b"", position)
                run(_INSERT_KEY, (*row, normal))
            run(
                _INSERT_VERSION,
                (
                    session_id,
                    key,
                    version.version,
                    digest,
                    created,
                    creator,
                    version.classification,
                    tables,
                    json.dumps(messages or []),
                    version.name,
                ),
            )
            self._prune(run, session_id, key, version.version, keep)
        self._latest.pop((session_id, key), None)
        return DatasetVersion(
            key=key,
            version=version.version,
            digest=digest,
            created_at=version.created_at,
            creator=creator,
            classification=version.classification,
            tables=version.tables,
            messages=list(messages or []),
            name=version.name,
        )

    def _prune(self, run: Any, session_id: str, key: str, latest: int, keep: int) -> None:
        versions = [int(r[0]) for r in run(_VERSION_NUMBERS, (session_id, key))]
        pins = [r[1] for r in run(_PINS, (session_id, key))]
        drop = versions_to_drop(versions, used_versions(pins, latest), keep)
        if drop:
            marks = ", ".join("?" * len(drop))
            run(
                "DELETE FROM dataset_versions WHERE session_id = ? AND key = ? "
                f"AND version IN ({marks})",
                (session_id, key, *drop),
            )
            run(_DROP_UNREFERENCED_BLOBS, (session_id, session_id))

    def delete_dataset(self, session_id: str, key: str) -> DatasetDeletion:
        dialect = self.db.dialect
        with dialect.transaction(self.db.engine) as run:
            # Locked, so that a scenario being added for it waits for this delete and
            # then finds its version gone (see `ScenarioRepository.add_scenario`).
            if not run(_KEY + dialect.for_update, (session_id, key)):
                raise NotFoundError(f"dataset {key!r} not found")
            versions = [self._version_row([r]) for r in run(_VERSIONS, (session_id, key))]
            numbers = [v.version for v in versions if v is not None]
            pins = run(_PINS, (session_id, key))
            used = used_versions([p[1] for p in pins], max(numbers) if numbers else None)
            deleted = sorted(n for n in numbers if n not in used)
            if not deleted:
                tags = sorted(
                    r[0]
                    for r in run(
                        "SELECT tag FROM scenarios WHERE session_id = ? AND dataset_key = ?",
                        (session_id, key),
                    )
                )
                raise ConflictError(
                    f"dataset {key!r} is used by scenario(s) {', '.join(tags)}; delete them first"
                )
            marks = ", ".join("?" * len(deleted))
            run(
                "DELETE FROM dataset_versions WHERE session_id = ? AND key = ? "
                f"AND version IN ({marks})",
                (session_id, key, *deleted),
            )
            remaining = sorted(used)
            if not remaining:
                run("DELETE FROM datasets WHERE session_id = ? AND key = ?", (session_id, key))
            else:
                kept = next(v for v in versions if v is not None and v.version == max(remaining))
                run(
                    "UPDATE datasets SET classification = ?, created_at = ?, tables = ? "
                    "WHERE session_id = ? AND key = ?",
                    (
                        kept.classification,
                        dialect.encode_time(kept.created_at),
                        json.dumps(kept.tables),
                        session_id,
                        key,
                    ),
                )
            run(_DROP_UNREFERENCED_BLOBS, (session_id, session_id))
        self._latest.pop((session_id, key), None)
        self.db.after_delete()
        return DatasetDeletion(key, deleted, remaining)

    # -- reads -------------------------------------------------------------------
    def _version_row(self, rows: list[tuple[Any, ...]]) -> DatasetVersion | None:
        """The version of the first of `rows` (of `DATASET_VERSION.columns`), if any."""
        return DATASET_VERSION.decoder(self.db.dialect.decode_time)(rows[0]) if rows else None

    def dataset_version(
        self, session_id: str, key: str, version: int | None = None
    ) -> DatasetVersion:
        query = self.db.dialect.query
        engine = self.db.engine
        # No stored key holds a NUL (PostgreSQL text cannot): not found, unasked.
        if "\x00" in key:
            raise NotFoundError(f"dataset {key!r} not found")
        if version is None:
            found = self._version_row(query(engine, _LATEST, (session_id, key)))
            if found is None:
                self._latest.pop((session_id, key), None)
                raise NotFoundError(f"dataset {key!r} not found")
            self._latest[(session_id, key)] = found
            return found
        found = self._version_row(query(engine, _VERSION, (session_id, key, version)))
        if found is None:
            if not query(engine, _KEY, (session_id, key)):
                raise NotFoundError(f"dataset {key!r} not found")
            raise NotFoundError(f"dataset {key!r} has no version {version}")
        return found

    def latest_version_seen(self, session_id: str, key: str) -> DatasetVersion:
        seen = self._latest.get((session_id, key))
        return seen if seen is not None else self.dataset_version(session_id, key)

    def get_dataset(
        self,
        session_id: str,
        key: str,
        version: int | None = None,
        *,
        found: DatasetVersion | None = None,
    ) -> DataSource:
        # `found` (just read by the caller): the version is not read again. A create
        # reads the version it pins, then the data of that version for its declared
        # data parameters: one read of the version fewer per create on SQL,
        # "11 create+run+complete, HTTP: SQLite / in memory" (benchmarks/
        # bench_scenarios.py). A version deleted since is caught by the write that
        # pins it (`add_scenario`), as one deleted just after this read would be.
        if found is None:
            found = self.dataset_version(session_id, key, version)
        cache_key = (session_id, found.digest)
        with self._cache_lock:
            cached = self._cache.get(cache_key)
            if cached is not None:
                self._cache.move_to_end(cache_key)
                return as_stored(cached, key, found)
        rows = self.db.dialect.query(self.db.engine, _BLOB, cache_key)
        if not rows:  # pruned or deleted between the two reads
            raise NotFoundError(f"dataset {key!r} has no version {found.version}")
        data = self.data_object_type.from_arrow_bytes(bytes(rows[0][0]))
        with self._cache_lock:
            self._cache[cache_key] = data
            while len(self._cache) > DATASET_CACHE_SIZE:
                self._cache.popitem(last=False)
        return as_stored(data, key, found)

    def list_dataset_versions(self, session_id: str, key: str) -> list[DatasetVersion]:
        query = self.db.dialect.query
        engine = self.db.engine
        versions = [self._version_row([r]) for r in query(engine, _VERSIONS, (session_id, key))]
        found = [v for v in versions if v is not None]
        if not found:
            raise NotFoundError(f"dataset {key!r} not found")
        latest = found[0].version
        users: dict[int, list[str]] = {}
        rows = query(engine, _PINS + " ORDER BY position", (session_id, key))
        for scenario_id, pin in rows:
            users.setdefault(int(pin) if pin is not None else latest, []).append(scenario_id)
        return [
            DatasetVersion(
                key=v.key,
                version=v.version,
                digest=v.digest,
                created_at=v.created_at,
                creator=v.creator,
                classification=v.classification,
                tables=v.tables,
                messages=v.messages,
                name=v.name,
                scenario_ids=users.get(v.version, []),
            )
            for v in found
        ]

    def list_datasets(self, session_id: str) -> list[str]:
        rows = self.db.dialect.query(self.db.engine, _KEYS, (session_id,))
        return [row[0] for row in rows]

    def stored_dataset_bytes(self, session_id: str) -> int:
        """Bytes of dataset content the session stores (each distinct content once)."""
        rows = self.db.dialect.query(
            self.db.engine,
            "SELECT coalesce(sum(length(data)), 0) FROM dataset_blobs WHERE session_id = ?",
            (session_id,),
        )
        return int(rows[0][0])

    def _forget(self, session_id: str) -> None:
        """Drop what this store keeps of the session's datasets (its deletion)."""
        with self._cache_lock:
            for cached in list(self._cache):
                if cached[0] == session_id:
                    del self._cache[cached]
            for seen in list(self._latest):
                if seen[0] == session_id:
                    self._latest.pop(seen, None)

    def close_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()
            self._latest.clear()
