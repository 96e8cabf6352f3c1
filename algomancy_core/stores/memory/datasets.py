"""Datasets in memory: immutable versions over content kept once per digest."""

from __future__ import annotations

import dataclasses
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
from algomancy_core.stores.memory.state import MemoryState
from algomancy_core.stores.versions import as_stored, as_version
from algomancy_data import DataSource, content_digest


class MemoryDatasets(MemoryState):
    """Dataset versions by session and key."""

    # -- datasets ------------------------------------------------------------
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
        with self._lock:
            self._require_session(session_id)
            datasets = self._datasets[session_id]
            versions = datasets.get(key)
            if versions and not replace:
                raise dataset_taken(key)
            keys = self._dataset_keys[session_id]
            existing = keys.get(name_key(key), key)
            if existing != key:
                raise dataset_taken(key, existing)
            if versions and versions[-1].digest == digest:
                return versions[-1]
            version = as_version(key, (versions[-1].version if versions else 0) + 1, digest, data)
            version = dataclasses.replace(version, creator=creator, messages=list(messages or []))
            self._blobs[session_id].setdefault(digest, data)
            # A new version lists its key last, as a replacement always did.
            datasets.pop(key, None)
            datasets[key] = [*(versions or []), version]
            keys[name_key(key)] = key
            self._prune(session_id, key, keep)
            return version

    def _prune(self, session_id: str, key: str, keep: int) -> None:
        versions = self._datasets[session_id][key]
        drop = versions_to_drop([v.version for v in versions], self._used(session_id, key), keep)
        if drop:
            self._datasets[session_id][key] = [v for v in versions if v.version not in drop]
            self._drop_unreferenced_blobs(session_id)

    def _drop_unreferenced_blobs(self, session_id: str) -> None:
        referenced = {v.digest for vs in self._datasets[session_id].values() for v in vs}
        blobs = self._blobs[session_id]
        for digest in [d for d in blobs if d not in referenced]:
            del blobs[digest]

    def _used(self, session_id: str, key: str) -> set[int]:
        versions = self._datasets.get(session_id, {}).get(key) or []
        pins = [
            self._scenarios[i].dataset_version
            for i in self._by_session.get(session_id, {})
            if self._scenarios[i].dataset_key == key
        ]
        return used_versions(pins, versions[-1].version if versions else None)

    def dataset_version(
        self, session_id: str, key: str, version: int | None = None
    ) -> DatasetVersion:
        versions = self._datasets.get(session_id, {}).get(key)
        if not versions:
            raise NotFoundError(f"dataset {key!r} not found")
        if version is None:
            return versions[-1]
        for found in versions:
            if found.version == version:
                return found
        raise NotFoundError(f"dataset {key!r} has no version {version}")

    def latest_version_seen(self, session_id: str, key: str) -> DatasetVersion:
        return self.dataset_version(session_id, key)

    def get_dataset(
        self,
        session_id: str,
        key: str,
        version: int | None = None,
        *,
        found: DatasetVersion | None = None,
    ) -> DataSource:
        # `found` is not needed: the look-up below is a dict's.
        with self._lock:
            found = self.dataset_version(session_id, key, version)
            data = self._blobs[session_id][found.digest]
        return as_stored(data, key, found)

    def list_dataset_versions(self, session_id: str, key: str) -> list[DatasetVersion]:
        with self._lock:
            self.dataset_version(session_id, key)
            versions = self._datasets[session_id][key]
            latest = versions[-1].version
            users: dict[int, list[str]] = {}
            for i in self._by_session.get(session_id, {}):
                record = self._scenarios[i]
                if record.dataset_key == key:
                    pin = record.dataset_version if record.dataset_version is not None else latest
                    users.setdefault(pin, []).append(record.id)
            return [
                dataclasses.replace(v, scenario_ids=users.get(v.version, []))
                for v in reversed(versions)
            ]

    def list_datasets(self, session_id: str) -> list[str]:
        with self._lock:
            return list(self._datasets.get(session_id, {}))

    def delete_dataset(self, session_id: str, key: str) -> DatasetDeletion:
        with self._lock:
            self.dataset_version(session_id, key)
            versions = self._datasets[session_id][key]
            used = self._used(session_id, key)
            deleted = [v.version for v in versions if v.version not in used]
            if not deleted:
                users = sorted(
                    self._scenarios[i].tag
                    for i in self._by_session.get(session_id, {})
                    if self._scenarios[i].dataset_key == key
                )
                raise ConflictError(
                    f"dataset {key!r} is used by scenario(s) {', '.join(users)}; delete them first"
                )
            remaining = [v for v in versions if v.version in used]
            if remaining:
                self._datasets[session_id][key] = remaining
            else:
                del self._datasets[session_id][key]
                self._dataset_keys[session_id].pop(name_key(key), None)
            self._drop_unreferenced_blobs(session_id)
            return DatasetDeletion(key, deleted, [v.version for v in remaining])
