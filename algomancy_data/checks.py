"""Table checks run after the schema's own: unique values, missing values.

A check is a callable ``check(tables, messages) -> tables`` over the validated tables
(table name → frame); it appends `ValidationMessage`s and returns the tables, changed
or not. List them on an ETL factory (``checks = [UniqueValues("orders", "order_id")]``)
and they run at the end of its `validate` step, after the foreign keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from algomancy_data.findings import row_index, rows_message
from algomancy_data.lazy import lazy_module
from algomancy_data.validation import Severity, ValidationMessage

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

Tables = dict[str, "pd.DataFrame"]


class TableCheck(Protocol):
    """What `ETLFactory.checks` holds."""

    def __call__(self, tables: Tables, messages: list[ValidationMessage]) -> Tables: ...


def _columns_of(
    check: str,
    tables: Mapping[str, pd.DataFrame],
    table: str,
    columns: Sequence[str],
    messages: list[ValidationMessage],
) -> pd.DataFrame | None:
    """The table if it and `columns` exist; a message otherwise (None: skip the check)."""
    frame = tables.get(table)
    if frame is None:
        found = ", ".join(tables) or "none"
        messages.append(
            ValidationMessage(
                Severity.WARNING,
                f"{check}: there is no table {table!r} to check (tables: {found})",
                table=table,
                code="unchecked_table",
            )
        )
        return None
    lacking = [c for c in columns if c not in frame.columns]
    if lacking:
        messages.append(
            ValidationMessage(
                Severity.ERROR,
                f"{check}: table {table!r} has no column {lacking[0]!r}",
                table=table,
                column=lacking[0],
                code="missing_column",
            )
        )
        return None
    return frame


@dataclass(frozen=True, init=False)
class UniqueValues:
    """No two rows of `table` share a value of `columns` (together: a composite
    key); rows with a blank in them are not compared. Code ``duplicate_value``."""

    table: str
    columns: Sequence[str]
    severity: Severity = Severity.ERROR

    def __init__(self, table: str, *columns: str, severity: Severity = Severity.ERROR) -> None:
        if not columns:
            raise ValueError("UniqueValues: name at least one column")
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "columns", tuple(columns))
        object.__setattr__(self, "severity", Severity(severity))

    def __call__(self, tables: Tables, messages: list[ValidationMessage]) -> Tables:
        cols = list(self.columns)
        frame = _columns_of("unique values", tables, self.table, cols, messages)
        if frame is None:
            return tables
        repeated = (
            frame.duplicated(subset=cols, keep=False).to_numpy()
            & ~frame[cols].isna().any(axis=1).to_numpy()
        )
        if repeated.any():
            label = ", ".join(repr(c) for c in cols)
            one = cols[0] if len(cols) == 1 else None
            messages.append(
                rows_message(
                    self.severity,
                    f"table {self.table!r} column {label}: {{count}} rows repeat a value "
                    "that must be unique",
                    "duplicate_value",
                    self.table,
                    one,
                    repeated,
                    frame[one] if one else None,
                    row_index(frame),
                )
            )
        return tables


@dataclass(frozen=True, init=False)
class MissingValues:
    """Every row of `table` has a value in each of `columns` (all columns when none
    are named); a blank or whitespace-only text counts as missing. Code
    ``missing_value``, one message per column."""

    table: str
    columns: Sequence[str] | None
    severity: Severity = Severity.ERROR

    def __init__(self, table: str, *columns: str, severity: Severity = Severity.ERROR) -> None:
        object.__setattr__(self, "table", table)
        object.__setattr__(self, "columns", tuple(columns) or None)
        object.__setattr__(self, "severity", Severity(severity))

    def __call__(self, tables: Tables, messages: list[ValidationMessage]) -> Tables:
        frame = _columns_of("missing values", tables, self.table, self.columns or (), messages)
        if frame is None:
            return tables
        for column in self.columns or [str(c) for c in frame.columns]:
            values = frame[column]
            missing = values.isna().to_numpy()
            if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
                missing = missing | (values.astype("str").str.strip() == "").to_numpy()
            if missing.any():
                messages.append(
                    rows_message(
                        self.severity,
                        f"table {self.table!r} column {column!r}: {{count}} row(s) have no value",
                        "missing_value",
                        self.table,
                        column,
                        missing,
                        index=row_index(frame),
                    )
                )
        return tables
