"""`DataSource`: a named set of pandas tables with a classification, an id and a time.

The JSON and Arrow formats are described in `algomancy_data.serialization`.
"""

from __future__ import annotations

import collections
import copy
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self

from algomancy_data import serialization
from algomancy_data.lazy import lazy_module
from algomancy_data.limits import MAX_METADATA_DEPTH, nesting_depth, quote

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
else:
    pd = lazy_module("pandas")
    pa = lazy_module("pyarrow")


class DataClassification(StrEnum):
    """Where a dataset came from: loaded by the ETL, or derived from another one."""

    MASTER_DATA = "master_data"
    DERIVED_DATA = "derived_data"


class DataSource:
    """A named set of tables (pandas DataFrames).

    `data_parameters` is a JSON-able dict kept by both formats. Subclasses may add
    tables or data parameters and still round-trip; extra state goes through
    `_to_json_extra` / `_from_json_extra`, and a subclass whose `__init__` takes other
    arguments overrides `_new_for_restore`.
    """

    def __init__(
        self,
        name: str = "",
        classification: DataClassification | str = DataClassification.MASTER_DATA,
        *,
        id: str | None = None,
        created_at: datetime | None = None,
        tables: Mapping[str, pd.DataFrame] | None = None,
        data_parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.classification = DataClassification(classification)
        self.id = id or str(uuid.uuid4())
        self.created_at = created_at or datetime.now(UTC)
        self.data_parameters: dict[str, Any] = dict(data_parameters or {})
        self._tables: dict[str, pd.DataFrame] = {}
        for table_name, frame in (tables or {}).items():
            self.add_table(table_name, frame)

    def add_table(self, name: str, frame: pd.DataFrame) -> None:
        """Add or replace the table `name`."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a table name must be a non-empty string")
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {name!r} must be a pandas DataFrame")
        _check_column_names(name, frame)
        self._tables[name] = frame

    def get_table(self, name: str) -> pd.DataFrame:
        """The table `name`; `KeyError` naming the known tables if there is none."""
        try:
            return self._tables[name]
        except KeyError:
            known = ", ".join(sorted(self._tables)) or "none"
            raise KeyError(
                f"no table {name!r} in dataset {self.name!r} (tables: {known})"
            ) from None

    def list_tables(self) -> list[str]:
        """Table names in insertion order."""
        return list(self._tables)

    def table_rows(self) -> dict[str, int]:
        """Rows of each table, by name, in insertion order."""
        return {name: len(frame) for name, frame in self._tables.items()}

    def remove_table(self, name: str) -> None:
        """Drop the table `name`."""
        self.get_table(name)
        del self._tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __contains__(self, name: object) -> bool:
        return name in self._tables

    def derive(self, new_name: str) -> DataSource:
        """An independent deep copy named `new_name`, classified as derived data."""
        clone = self.__class__.__new__(self.__class__)
        clone.__dict__.update(self.__dict__)
        clone.name = new_name
        clone.classification = DataClassification.DERIVED_DATA
        clone.id = str(uuid.uuid4())
        clone.created_at = datetime.now(UTC)
        clone.data_parameters = copy.deepcopy(self.data_parameters)
        clone._tables = {name: frame.copy(deep=True) for name, frame in self._tables.items()}
        return clone

    # --- serialisation -------------------------------------------------------------

    def _to_json_extra(self) -> dict[str, Any]:
        """Extra JSON-able state of a subclass, stored under ``"extra"``."""
        return {}

    def _from_json_extra(self, extra: dict[str, Any]) -> None:
        """Restore what `_to_json_extra` wrote (called after the tables are loaded)."""

    @classmethod
    def _new_for_restore(
        cls,
        name: str,
        classification: DataClassification,
        id: str | None,
        created_at: datetime | None,
    ) -> Self:
        """An empty instance of `cls` to load tables into."""
        return cls(name, classification, id=id, created_at=created_at)

    def _metadata(self) -> dict[str, Any]:
        return {
            "format": serialization.FORMAT_NAME,
            "version": serialization.FORMAT_VERSION,
            "name": self.name,
            "classification": self.classification.value,
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "data_parameters": self.data_parameters,
            "extra": self._to_json_extra(),
        }

    def to_json(self) -> str:
        """The dataset as a versioned, columnar JSON document (see `serialization`)."""
        return self.to_json_bytes().decode()

    def to_json_bytes(self) -> bytes:
        """`to_json()` as UTF-8 bytes, without the detour through `str`."""
        document = self._metadata()
        tables: dict[str, Any] = {}
        for table_name, frame in self._tables.items():
            try:
                tables[table_name] = serialization.frame_to_json(frame)
            except ValueError as exc:
                raise ValueError(f"table {table_name!r}: {exc}") from None
        document["tables"] = tables
        try:
            return serialization.dumps(document)
        except TypeError as exc:
            raise ValueError(f"dataset {self.name!r} is not JSON-serialisable: {exc}") from None

    @classmethod
    def from_json(cls, payload: str | bytes, *, name: str | None = None) -> Self:
        """The dataset a `to_json` payload (or an array of table objects) describes.

        `name` overrides the dataset name (an array-rooted payload has none).
        Raises `ValueError` saying what is wrong when the payload is not valid.
        """
        document = serialization.loads(payload)
        if isinstance(document, list):
            return cls._from_table_array(document, name or "")
        if not isinstance(document, dict):
            raise ValueError("a dataset JSON payload must be an object or an array of tables")
        if document.get("format", serialization.FORMAT_NAME) != serialization.FORMAT_NAME:
            raise ValueError(f"unknown payload format {document.get('format')!r}")
        version = document.get("version", serialization.FORMAT_VERSION)
        if version != serialization.FORMAT_VERSION:
            raise ValueError(
                f"unsupported format version {version!r} "
                f"(this version reads {serialization.FORMAT_VERSION})"
            )
        tables = document.get("tables")
        if not isinstance(tables, dict):
            raise ValueError("a dataset JSON payload needs 'tables': an object of tables")
        frames = {
            table_name: serialization.frame_from_json(table, table_name)
            for table_name, table in tables.items()
        }
        return cls._restore(document, frames, name)

    @classmethod
    def _from_table_array(cls, tables: list[Any], name: str) -> Self:
        frames: dict[str, pd.DataFrame] = {}
        for position, table in enumerate(tables):
            table_name = table.get("name") if isinstance(table, dict) else None
            if not isinstance(table_name, str) or not table_name.strip():
                raise ValueError(f"table #{position} of the array needs a non-empty 'name'")
            if table_name in frames:
                raise ValueError(f"table {table_name!r} appears twice in the array")
            frames[table_name] = serialization.frame_from_json(table, table_name)
        return cls._restore({}, frames, name)

    @classmethod
    def _restore(
        cls, document: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], name: str | None
    ) -> Self:
        dataset_name = name if name is not None else document.get("name", "")
        if not isinstance(dataset_name, str):
            raise ValueError("'name' must be a string")
        try:
            classification = DataClassification(
                document.get("classification", DataClassification.MASTER_DATA)
            )
        except ValueError:
            known = ", ".join(c.value for c in DataClassification)
            raise ValueError(
                f"unknown classification {document.get('classification')!r} (known: {known})"
            ) from None
        dataset_id = document.get("id")
        if dataset_id is not None and not isinstance(dataset_id, str):
            raise ValueError("'id' must be a string")
        created_at = _parse_created_at(document.get("created_at"))
        parameters = document.get("data_parameters") or {}
        extra = document.get("extra") or {}
        if not isinstance(parameters, dict) or not isinstance(extra, dict):
            raise ValueError("'data_parameters' and 'extra' must be JSON objects")
        for field, value in (("data_parameters", parameters), ("extra", extra)):
            if nesting_depth(value) > MAX_METADATA_DEPTH:
                raise ValueError(
                    f"{field!r} nests deeper than {MAX_METADATA_DEPTH} levels of objects and arrays"
                )
        dataset = cls._new_for_restore(dataset_name, classification, dataset_id, created_at)
        dataset.data_parameters = dict(parameters)
        for table_name, frame in frames.items():
            dataset.add_table(table_name, frame)
        # the payload's table order wins over tables a subclass's __init__ added first
        order = [n for n in frames] + [n for n in dataset._tables if n not in frames]
        dataset._tables = {n: dataset._tables[n] for n in order}
        dataset._from_json_extra(extra)
        return dataset

    def to_arrow_bytes(self) -> bytes:
        """The dataset as Arrow IPC streams behind a JSON header (for binary stores)."""
        header = self._metadata()
        entries: list[dict[str, Any]] = []
        blobs: list[pa.Buffer] = []
        for table_name, frame in self._tables.items():
            try:
                blob = serialization.frame_to_arrow(frame)
            except (ValueError, TypeError, pa.ArrowException) as exc:
                raise ValueError(
                    f"table {table_name!r} cannot be written as Arrow: {exc}"
                ) from None
            dtypes = {str(c): serialization.dtype_to_json(frame[c].dtype) for c in frame.columns}
            entries.append({"name": table_name, "size": len(blob), "dtypes": dtypes})
            blobs.append(blob)
        header["tables"] = entries
        return serialization.pack_arrow(header, blobs)

    @classmethod
    def from_arrow_bytes(cls, payload: bytes) -> Self:
        """The dataset `to_arrow_bytes` wrote; `ValueError` when the bytes are not one."""
        header, blobs = serialization.unpack_arrow(payload)
        frames: dict[str, pd.DataFrame] = {}
        for entry, blob in zip(header["tables"], blobs, strict=True):
            table_name = entry.get("name")
            if not isinstance(table_name, str):
                raise ValueError("the Arrow payload header names a table without a name")
            try:
                frames[table_name] = serialization.frame_from_arrow(blob, entry.get("dtypes", {}))
            except (ValueError, TypeError, pa.ArrowException) as exc:
                raise ValueError(f"table {table_name!r} in the Arrow payload: {exc}") from None
        return cls._restore(header, frames, None)


def _check_column_names(table: str, frame: pd.DataFrame) -> None:
    """Refuse columns a dataset could not be written or read back with: duplicate
    names, and empty ones (JSON, Arrow and the frames address columns by name)."""
    counts = collections.Counter(frame.columns)
    duplicates = [name for name, count in counts.items() if count > 1]
    if duplicates:
        shown = ", ".join(quote(name, 60) for name in duplicates[:5])
        raise ValueError(f"table {table!r} has duplicate column names: {shown}")
    if any(isinstance(name, str) and not name.strip() for name in counts):
        raise ValueError(f"table {table!r} has a column without a name")


def _parse_created_at(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("'created_at' must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'created_at' is not an ISO 8601 time: {value!r}") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)
    except OverflowError:
        # Stores keep times in UTC: one that UTC cannot hold could not be stored.
        raise ValueError(f"'created_at' is out of range once in UTC: {value!r}") from None
    return parsed
