"""Relations between tables: foreign keys declared on columns, checked, cascaded, joined.

::

    SKUS = Schema("skus", columns=[Column("sku", "string", primary_key=True)])
    STOCK = Schema("stock", columns=[
        Column("sku", "string", references="skus.sku"),
        Column("location", "string", references="locations.location", drop_orphans=True),
    ])

The ETL checks every declared foreign key at the end of its `validate` step: a
filled value with no match in the referenced column is an error (``foreign_key``,
naming table, column and the first offending rows), or, with `drop_orphans`, its
row is dropped with a warning (``orphans_dropped``); rows that referred to a dropped
row are dropped in turn when their key says so (a cascade).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from algomancy_data.checks import UniqueValues
from algomancy_data.findings import row_index, rows_message
from algomancy_data.lazy import lazy_module
from algomancy_data.schema import Schema
from algomancy_data.validation import Severity, ValidationMessage

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

Tables = dict[str, "pd.DataFrame"]


@dataclass(frozen=True)
class ForeignKey:
    """`table.column` refers to `ref_table.ref_column`."""

    table: str
    column: str
    ref_table: str
    ref_column: str
    drop_orphans: bool = False

    def __str__(self) -> str:
        return f"{self.table}.{self.column} → {self.ref_table}.{self.ref_column}"


def foreign_keys(schemas: Iterable[Schema]) -> list[ForeignKey]:
    """The foreign keys the schemas' columns declare (`Column.references`)."""
    keys = []
    for schema in schemas:
        for table, columns in schema.tables.items():
            for column in columns:
                if column.referenced is not None:
                    ref_table, ref_column = column.referenced
                    keys.append(
                        ForeignKey(table, column.name, ref_table, ref_column, column.drop_orphans)
                    )
    return keys


def check_references(schemas: Sequence[Schema]) -> None:
    """Raise `ValueError` when a column references a table or column no schema declares."""
    declared = {
        table: {c.name for c in columns} for s in schemas for table, columns in s.tables.items()
    }
    for key in foreign_keys(schemas):
        columns = declared.get(key.ref_table)
        if columns is None:
            known = ", ".join(declared) or "none"
            raise ValueError(
                f"column {key.column!r} of table {key.table!r} references the table "
                f"{key.ref_table!r}, which no schema declares (tables: {known})"
            )
        if key.ref_column not in columns:
            raise ValueError(
                f"column {key.column!r} of table {key.table!r} references "
                f"{key.ref_table}.{key.ref_column}, which the table does not declare"
            )


def check_foreign_keys(
    tables: Mapping[str, pd.DataFrame],
    keys: Sequence[ForeignKey],
    messages: list[ValidationMessage],
) -> Tables:
    """Check each key; the tables with orphans dropped where a key says so.

    A table that is absent (an optional file not uploaded) is not checked: a warning
    (``unchecked_reference``) when the referenced one is the absent one.
    """
    result = dict(tables)
    reported: set[ForeignKey] = set()
    changed = True
    while changed:  # a drop can orphan rows that referred to the dropped ones
        changed = False
        for key in keys:
            child, parent = result.get(key.table), result.get(key.ref_table)
            if child is None or key.column not in child.columns:
                continue
            if parent is None or key.ref_column not in parent.columns:
                if key not in reported:
                    reported.add(key)
                    messages.append(
                        ValidationMessage(
                            Severity.WARNING,
                            f"table {key.table!r} column {key.column!r}: not checked against "
                            f"{key.ref_table}.{key.ref_column}, which was not uploaded",
                            key.table,
                            key.column,
                            code="unchecked_reference",
                        )
                    )
                continue
            orphans = _orphans(child[key.column], parent[key.ref_column])
            if not orphans.any():
                continue
            target = f"{key.ref_table}.{key.ref_column}"
            if key.drop_orphans:
                messages.append(
                    rows_message(
                        Severity.WARNING,
                        f"table {key.table!r} column {key.column!r}: dropped {{count}} row(s) "
                        f"whose value has no match in {target}",
                        "orphans_dropped",
                        key.table,
                        key.column,
                        orphans,
                        child[key.column],
                        row_index(child),
                    )
                )
                result[key.table] = child[~orphans]
                changed = True
            elif key not in reported:
                reported.add(key)
                messages.append(
                    rows_message(
                        Severity.ERROR,
                        f"table {key.table!r} column {key.column!r}: {{count}} value(s) have "
                        f"no match in {target}",
                        "foreign_key",
                        key.table,
                        key.column,
                        orphans,
                        child[key.column],
                        row_index(child),
                    )
                )
    for name, frame in result.items():
        if frame is not tables.get(name):
            result[name] = frame.reset_index(drop=True)
    return result


def _orphans(values: pd.Series, targets: pd.Series) -> np.ndarray:
    if values.dtype.kind != targets.dtype.kind and not (
        pd.api.types.is_numeric_dtype(values.dtype) and pd.api.types.is_numeric_dtype(targets.dtype)
    ):
        # e.g. a code read as text in one file and as a number in another
        values, targets = values.astype("str"), targets.astype("str")
    found = values.isin(targets.dropna().unique())
    return values.notna().to_numpy() & ~found.fillna(False).to_numpy(dtype=bool)


def apply_schema_rules(
    tables: Mapping[str, pd.DataFrame],
    schemas: Sequence[Schema],
    messages: list[ValidationMessage],
) -> Tables:
    """The rules declared on columns that span rows or tables: `unique`, then `references`."""
    result = dict(tables)
    for schema in schemas:
        for table, columns in schema.tables.items():
            if table not in result:
                continue
            for column in columns:
                if column.unique and column.name in result[table].columns:
                    UniqueValues(table, column.name)(result, messages)
    return check_foreign_keys(result, foreign_keys(schemas), messages)


def join(
    tables: Mapping[str, pd.DataFrame],
    left: str,
    right: str,
    schemas: Sequence[Schema],
    how: Literal["left", "inner", "outer"] = "left",
) -> pd.DataFrame:
    """`left` with the columns of `right`, matched on the foreign key declared between
    them (either way round). Columns of `right` whose names `left` already has get the
    suffix ``_{right}``; `ValueError` when no key relates the two tables."""
    validate: Literal["many_to_one", "one_to_many"]
    for key in foreign_keys(schemas):
        if (key.table, key.ref_table) == (left, right):
            left_on, right_on, validate = key.column, key.ref_column, "many_to_one"
            break
        if (key.table, key.ref_table) == (right, left):
            left_on, right_on, validate = key.ref_column, key.column, "one_to_many"
            break
    else:
        raise ValueError(f"no foreign key relates the tables {left!r} and {right!r}")
    merged = tables[left].merge(
        tables[right],
        how=how,
        left_on=left_on,
        right_on=right_on,
        suffixes=("", f"_{right}"),
        validate=validate,
    )
    if left_on != right_on and right_on not in tables[left].columns:
        merged = merged.drop(columns=[right_on])
    return merged
