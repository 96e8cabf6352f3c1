"""`SessionDatasets`: one session's identity and datasets (versions, ETL, derived
copies), the base class of `ScenarioManager`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from algomancy_core.errors import (
    ConflictError,
    InvalidInputError,
)
from algomancy_core.events import Notifier
from algomancy_core.names import check_name, nfc
from algomancy_core.runtime import Runtime
from algomancy_core.stores.base import DatasetDeletion, DatasetVersion, SessionRecord
from algomancy_data import DataClassification, DataSource, ETLResult, File

log = logging.getLogger("algomancy.scenarios")


class SessionDatasets:
    """One session's datasets, as a view over the store; the base of `ScenarioManager`."""

    def __init__(self, runtime: Runtime, session: SessionRecord) -> None:
        self._runtime = runtime
        self._store = runtime.store
        self.session = session

    @property
    def _engine(self) -> Runtime:
        """`_runtime`'s old name (when `Runtime` was `Engine`); `algomancy_core.experiments`
        still reads it."""
        return self._runtime

    @property
    def session_id(self) -> str:
        return self.session.id

    @property
    def display_name(self) -> str:
        return self.session.display_name

    @property
    def notifier(self) -> Notifier:
        """Where changes of this session's scenarios are announced."""
        return self._runtime.notifier

    def _autocreate(self, key: str) -> None:
        """Called with the key of each dataset added; `ScenarioManager` makes the
        configured scenarios for it (`autocreate`)."""

    # -- datasets ------------------------------------------------------------
    def list_datasets(self) -> list[str]:
        return self._store.list_datasets(self.session_id)

    def get_data_keys(self) -> list[str]:
        """`list_datasets` under the reference's name, for code ported from it."""
        return self.list_datasets()

    def get_dataset(self, key: str, version: int | None = None) -> DataSource:
        """The dataset's `version` (default: its latest)."""
        return self._store.get_dataset(self.session_id, nfc(key), version)

    def dataset_version(self, key: str, version: int | None = None) -> DatasetVersion:
        return self._store.dataset_version(self.session_id, nfc(key), version)

    def dataset_versions(self, key: str) -> list[DatasetVersion]:
        """Every version kept, newest first, with the scenarios pinned to each."""
        return self._store.list_dataset_versions(self.session_id, nfc(key))

    def add_dataset(
        self,
        key: str,
        data: DataSource,
        *,
        replace: bool = False,
        creator: str | None = None,
        messages: list[dict[str, Any]] | None = None,
    ) -> DatasetVersion:
        """Store `data` under `key`: its first version, or with `replace` a new
        version (content identical to the latest adds none). Existing versions, and
        the scenarios pinned to them, never change."""
        key = check_name("dataset key", key, self._runtime.config.max_name_chars)
        existed = key in self.list_datasets()
        before = self._store.dataset_version(self.session_id, key).version if existed else None
        version = self._store.put_dataset(
            self.session_id,
            key,
            data,
            replace=replace,
            creator=creator,
            messages=messages,
            keep=self._runtime.config.dataset_versions_kept,
        )
        if version.version != before:  # identical content adds no version: no change
            kind = "dataset.replaced" if existed else "dataset.added"
            described = {"key": key, "version": version.version, "digest": version.digest}
            self._runtime.changes.record(self.session_id, kind, key, {"dataset": described})
        if not existed:
            self._autocreate(key)
        return version

    def add_dataset_from_json(
        self, payload: str | bytes, *, new_version: bool = False, creator: str | None = None
    ) -> str:
        """Add the dataset serialised by `DataSource.to_json()`; returns its key."""
        if not payload.strip():
            raise InvalidInputError(
                "the request body is empty; send a DataSource.to_json() payload"
            )
        try:
            data = self._runtime.config.data_object_type.from_json(payload)
        except ValueError as exc:
            raise InvalidInputError(f"not a valid dataset payload: {exc}") from None
        if not data.name or not data.name.strip():
            raise InvalidInputError("the dataset payload has no name; set its 'name'")
        data.name = check_name("name", data.name, self._runtime.config.max_name_chars)
        self.add_dataset(data.name, data, replace=new_version, creator=creator)
        return data.name

    def etl_data(
        self,
        files: Mapping[str, File] | list[File],
        dataset_name: str,
        *,
        creator: str | None = None,
    ) -> ETLResult:
        """Run the ETL over `files`; on success store the dataset as `dataset_name`,
        as a new version when the name exists. A failed ETL stores nothing."""
        return self.etl_version(files, dataset_name, creator=creator)[0]

    def etl_version(
        self,
        files: Mapping[str, File] | list[File],
        dataset_name: str,
        *,
        creator: str | None = None,
        keep: Callable[[], bool] | None = None,
    ) -> tuple[ETLResult, DatasetVersion | None]:
        """`etl_data`, with the version it stored (None when the ETL failed): the
        one this upload made, whatever others stored meanwhile. `keep`, asked after
        the ETL and before storing, may say no (a request past its deadline): then
        nothing is stored and the version is None."""
        dataset_name = check_name("dataset_name", dataset_name, self._runtime.config.max_name_chars)
        result = self._runtime.etl_factory().run(files, dataset_name)
        if keep is not None and not keep():
            return result, None
        data = result.data_source if result.is_success else None
        messages = [m.to_dict() for m in result.messages]
        return result, self.store_etl_output(dataset_name, data, messages, creator=creator)

    def store_etl_output(
        self,
        dataset_name: str,
        data: DataSource | None,
        messages: list[dict[str, Any]],
        *,
        creator: str | None = None,
    ) -> DatasetVersion | None:
        """Store what an ETL made (run here or in a child process): `data` as a new
        version of `dataset_name`, or with `data` None (the ETL failed) nothing, and
        log the failure with the first of `messages` (`ValidationMessage.to_dict`s)
        that is an error."""
        dataset_name = check_name("dataset_name", dataset_name, self._runtime.config.max_name_chars)
        if data is not None:
            data.name = dataset_name
            return self.add_dataset(
                dataset_name, data, replace=True, creator=creator, messages=messages
            )
        errors = [m for m in messages if m.get("severity") in ("error", "critical")]
        log.warning(
            "ETL of dataset %r in session %r failed with %d error(s)%s",
            dataset_name,
            self.display_name,
            len(errors),
            f"; first: {errors[0].get('message')}" if errors else "",
            extra={"event": "etl-failed", "dataset": dataset_name},
        )
        return None

    def derive_dataset(
        self,
        source_key: str,
        new_key: str,
        *,
        version: int | None = None,
        new_version: bool = False,
        creator: str | None = None,
    ) -> DataSource:
        """A copy of `source_key` (its `version`, default the latest) as `new_key`;
        `ConflictError` if `new_key` exists, unless `new_version` asks for a new
        version of it."""
        new_key = check_name("new_key", new_key, self._runtime.config.max_name_chars)
        source = self.get_dataset(source_key, version)
        if new_key in self.list_datasets() and not new_version:
            raise ConflictError(
                f"dataset {new_key!r} already exists; ask for a new version of it "
                "with new_version=true"
            )
        derived = source.derive(new_key)
        self.add_dataset(new_key, derived, replace=new_version, creator=creator)
        return derived

    def save_as_master(self, source_key: str, new_key: str) -> DataSource:
        """A copy of `source_key` (typically a derived dataset) stored as `new_key`,
        classified as master data."""
        new_key = check_name("new_key", new_key, self._runtime.config.max_name_chars)
        source = self.get_dataset(source_key)
        if new_key in self.list_datasets():
            raise ConflictError(f"dataset {new_key!r} already exists")
        master = source.derive(new_key)
        master.classification = DataClassification.MASTER_DATA
        self.add_dataset(new_key, master)
        return master

    def delete_dataset(self, key: str) -> DatasetDeletion:
        """Delete the versions no scenario uses; `ConflictError` when every version
        is in use (nothing deleted). The answer names the versions that remain."""
        key = nfc(key)
        deletion = self._store.delete_dataset(self.session_id, key)
        if deletion.remaining:
            # Versions in use remain: the key stays, with fewer versions.
            described = {"key": key, "deleted": deletion.deleted, "remaining": deletion.remaining}
            self._runtime.changes.record(
                self.session_id, "dataset.replaced", key, {"dataset": described}
            )
        else:
            self._runtime.changes.record(
                self.session_id, "dataset.deleted", key, {"dataset": {"key": key}}
            )
        return deletion
