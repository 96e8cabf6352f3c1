"""Schemas: the logical files a dataset is built from, and their typed columns.

::

    SKU = Schema("sku_data", extension="csv", columns=[
        Column("sku", "string", primary_key=True),
        Column("weight_kg", "float", nullable=False),
        Column("family", "category", required=False, default="misc"),
    ])
    INVENTORY = Schema("inventory", extension="xlsx", sheets={
        "stock": [Column("sku", "string"), Column("quantity", "integer")],
        "locations": [Column("location", "string", primary_key=True)],
    })

A single-table schema gives one table named after the schema; a schema with
`sheets` gives one table per sheet (or per key of an object-rooted JSON file),
named after the sheet. A single-table schema for an XLSX file reads its first sheet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ColumnType(StrEnum):
    """The types a column can be declared with, and the pandas dtype each becomes.

    `integer` is ``int64`` (``Int64`` when nullable), `float` ``float64``, `string`
    pandas' ``str``, `boolean` ``bool`` (``boolean`` when nullable), `datetime`
    ``datetime64``, `date` ``datetime64`` at midnight, `category` ``category``.
    """

    INTEGER = "integer"
    FLOAT = "float"
    STRING = "string"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DATE = "date"
    CATEGORY = "category"


@dataclass(frozen=True)
class Column:
    """A declared column.

    A primary-key column is required and not nullable; several primary-key columns
    form a composite key. `default` fills an optional column the file lacks.
    `categories` restricts a `category` column to these values, in this order.

    `unique` refuses repeated values (blanks aside). `references` declares a foreign
    key, ``"table.column"``: every filled value must appear in that column of that
    table (a table is a schema's name, or a sheet's); with `drop_orphans` the rows
    whose value has no match are dropped (and rows referring to those, in turn)
    with a warning, instead of failing the ETL. `formats` lists the `strftime`
    formats a `date` or `datetime` column is read with, tried in order.
    """

    name: str
    type: ColumnType | str = ColumnType.STRING
    required: bool = True
    nullable: bool = True
    primary_key: bool = False
    default: Any = None
    categories: Sequence[Any] | None = None
    description: str = ""
    unique: bool = False
    references: str | None = None
    drop_orphans: bool = False
    formats: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a column name must be a non-empty string")
        try:
            column_type = ColumnType(self.type)
        except ValueError:
            known = ", ".join(t.value for t in ColumnType)
            raise ValueError(
                f"column {self.name!r}: unknown type {self.type!r} (known: {known})"
            ) from None
        object.__setattr__(self, "type", column_type)
        if self.primary_key:
            object.__setattr__(self, "required", True)
            object.__setattr__(self, "nullable", False)
        if self.categories is not None:
            if column_type is not ColumnType.CATEGORY:
                raise ValueError(f"column {self.name!r}: categories need the type 'category'")
            object.__setattr__(self, "categories", tuple(self.categories))
        self._check_relations_and_formats(column_type)

    def _check_relations_and_formats(self, column_type: ColumnType) -> None:
        if self.references is not None:
            table, dot, column = str(self.references).partition(".")
            if not (dot and table.strip() and column.strip()):
                raise ValueError(
                    f"column {self.name!r}: references must be 'table.column', "
                    f"not {self.references!r}"
                )
        elif self.drop_orphans:
            raise ValueError(f"column {self.name!r}: drop_orphans needs references")
        if self.formats is not None:
            if column_type not in (ColumnType.DATE, ColumnType.DATETIME):
                raise ValueError(
                    f"column {self.name!r}: formats need the type 'date' or 'datetime'"
                )
            formats = (self.formats,) if isinstance(self.formats, str) else tuple(self.formats)
            if not formats or not all(isinstance(f, str) and "%" in f for f in formats):
                raise ValueError(
                    f"column {self.name!r}: formats must be strftime formats such as '%d-%m-%Y'"
                )
            object.__setattr__(self, "formats", formats)

    @property
    def referenced(self) -> tuple[str, str] | None:
        """`references` as (table, column), or None."""
        if self.references is None:
            return None
        table, _, column = self.references.partition(".")
        return table.strip(), column.strip()

    @property
    def column_type(self) -> ColumnType:
        """`type` as a `ColumnType` (it always is one after construction)."""
        return ColumnType(self.type)


@dataclass(frozen=True)
class Schema:
    """A logical input file: its name (the filename stem), extension and tables."""

    name: str
    extension: str = "csv"
    columns: Sequence[Column] | None = None
    sheets: Mapping[str, Sequence[Column]] | None = None
    required: bool = True
    description: str = ""
    tables: dict[str, tuple[Column, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a schema name must be a non-empty string")
        extension = self.extension.lower().lstrip(".")
        from algomancy_data.extractors import extensions  # the registered ones too

        if extension not in extensions():
            raise ValueError(
                f"schema {self.name!r}: extension {self.extension!r} is not one of "
                + ", ".join(extensions())
            )
        object.__setattr__(self, "extension", extension)
        if (self.columns is None) == (self.sheets is None):
            raise ValueError(f"schema {self.name!r}: give either columns or sheets")
        if self.sheets is not None and extension == "csv":
            raise ValueError(f"schema {self.name!r}: a CSV file has one table, not sheets")
        if self.sheets is not None:
            tables = {sheet: tuple(cols) for sheet, cols in self.sheets.items()}
            if not tables:
                raise ValueError(f"schema {self.name!r}: sheets must not be empty")
        else:
            tables = {self.name: tuple(self.columns or ())}
        for table, cols in tables.items():
            names = [c.name for c in cols]
            if len(set(names)) != len(names):
                raise ValueError(f"schema {self.name!r}: table {table!r} repeats a column name")
        object.__setattr__(self, "tables", tables)

    @property
    def filename(self) -> str:
        """The expected file name, e.g. ``sku_data.csv``."""
        return f"{self.name}.{self.extension}"

    @property
    def has_sheets(self) -> bool:
        """True when the file holds one table per sheet."""
        return self.sheets is not None
