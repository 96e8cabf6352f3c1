"""`DataSource`: a named set of pandas tables with a classification, an id and a time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum

import pandas as pd


class DataClassification(StrEnum):
    """Where a dataset came from: loaded by the ETL, or derived from another one."""

    MASTER_DATA = "master_data"
    DERIVED_DATA = "derived_data"


class DataSource:
    """A named set of tables (pandas DataFrames).

    Subclasses may add tables or data parameters; `to_json`/`from_json` keep them.
    """

    def __init__(
        self,
        name: str = "",
        classification: DataClassification | str = DataClassification.MASTER_DATA,
        *,
        id: str | None = None,
        created_at: datetime | None = None,
        tables: dict[str, pd.DataFrame] | None = None,
    ) -> None:
        self.name = name
        self.classification = DataClassification(classification)
        self.id = id or str(uuid.uuid4())
        self.created_at = created_at or datetime.now(UTC)
        self._tables: dict[str, pd.DataFrame] = {}
        for table_name, frame in (tables or {}).items():
            self.add_table(table_name, frame)

    def add_table(self, name: str, frame: pd.DataFrame) -> None:
        """Add or replace the table `name`."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("a table name must be a non-empty string")
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {name!r} must be a pandas DataFrame")
        self._tables[name] = frame

    def get_table(self, name: str) -> pd.DataFrame:
        """The table `name`; `KeyError` naming the known tables if there is none."""
        try:
            return self._tables[name]
        except KeyError:
            known = ", ".join(sorted(self._tables)) or "none"
            raise KeyError(f"no table {name!r} in dataset {self.name!r} (tables: {known})") from None

    def list_tables(self) -> list[str]:
        """Table names in insertion order."""
        return list(self._tables)

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
        clone._tables = {name: frame.copy(deep=True) for name, frame in self._tables.items()}
        return clone
