"""Results of a run: whatever the domain returns, as a JSON-able dict and tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


class BaseResult:
    """The outcome of an algorithm run.

    Subclass it for a domain: `to_dict()` is what clients get as the scenario's
    `result`, `tables()` are exposed as tabular frames. The default keeps a dict of
    values and a dict of DataFrames.
    """

    def __init__(
        self,
        values: dict[str, Any] | None = None,
        tables: dict[str, pd.DataFrame] | None = None,
    ) -> None:
        self.values = dict(values or {})
        self._tables = dict(tables or {})

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able payload; tables are summarised by name and row count."""
        payload = dict(self.values)
        if self._tables:
            payload["tables"] = {name: len(frame) for name, frame in self._tables.items()}
        return payload

    def tables(self) -> dict[str, pd.DataFrame]:
        """Named tables of the result, shown as tabular frames."""
        return dict(self._tables)
