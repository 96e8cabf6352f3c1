"""The ETL pipeline: extract → validate → transform → load, driven by schemas.

Subclass `ETLFactory` and override the hooks you need (usually `transform`), or use
`DefaultETLFactory(schemas)` as is. Each hook appends `ValidationMessage`s to the
run's message list; a hook that raises becomes a ``critical`` message, never an
exception out of `run`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from algomancy_data.checks import TableCheck
from algomancy_data.coercion import coerce_table as coerce_table
from algomancy_data.coercion import critical_message, error_message
from algomancy_data.datasource import DataClassification, DataSource
from algomancy_data.files import File, FileReadError
from algomancy_data.lazy import lazy_module
from algomancy_data.relations import apply_schema_rules, check_references, join
from algomancy_data.schema import Schema
from algomancy_data.validation import Severity, ValidationMessage

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


@dataclass
class ETLResult:
    """The outcome of a run: success, the dataset (when successful) and the messages."""

    is_success: bool
    data_source: DataSource | None
    messages: list[ValidationMessage] = field(default_factory=list)

    @property
    def errors(self) -> list[ValidationMessage]:
        """The `error` and `critical` messages."""
        return [m for m in self.messages if m.severity.is_error]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (success, table names, messages)."""
        tables = self.data_source.list_tables() if self.data_source else []
        return {
            "success": self.is_success,
            "tables": tables,
            "messages": [m.to_dict() for m in self.messages],
        }


class ETLFactory:
    """The user's wiring of extract → validate → transform → load.

    `schemas` declares the expected files; `fail_on_error` (default True) makes any
    `error` message fail the run. With it off, values that fail conversion become
    null and the dataset is still built (``critical`` messages always fail).
    `checks` (`algomancy_data.checks`) run at the end of `validate`, after the
    columns' own rules (types, `unique`, foreign keys).
    """

    schemas: Sequence[Schema] = ()
    checks: Sequence[TableCheck] = ()
    fail_on_error: bool = True
    data_source_class: type[DataSource] = DataSource

    def __init__(
        self, schemas: Sequence[Schema] | None = None, *, fail_on_error: bool | None = None
    ) -> None:
        if schemas is not None:
            self.schemas = tuple(schemas)
        if fail_on_error is not None:
            self.fail_on_error = fail_on_error
        names = [schema.name for schema in self.schemas]
        if len(set(names)) != len(names):
            raise ValueError(f"schema names must be unique: {names}")
        check_references(self.schemas)

    @property
    def schemas_by_name(self) -> dict[str, Schema]:
        """The schemas keyed by logical file name."""
        return {schema.name: schema for schema in self.schemas}

    def run(self, files: Mapping[str, File] | Sequence[File], dataset_name: str) -> ETLResult:
        """Build the dataset `dataset_name` from `files` (keyed by logical name)."""
        messages: list[ValidationMessage] = []
        stage = "extract"
        try:
            raw = self.extract(self._by_logical_name(files, messages), messages)
            if not self._failed(messages):
                stage = "validate"
                tables = self.validate(raw, messages)
            if not self._failed(messages):
                stage = "transform"
                tables = self.transform(tables, messages)
            if not self._failed(messages):
                stage = "load"
                data_source = self.load(tables, dataset_name, messages)
        except Exception as exc:  # a failing hook is reported, never raised
            messages.append(
                critical_message(f"the {stage} step failed: {exc!r}", f"{stage}_failed")
            )
            return ETLResult(False, None, messages)
        if self._failed(messages):
            return ETLResult(False, None, messages)
        return ETLResult(True, data_source, messages)

    def _failed(self, messages: list[ValidationMessage]) -> bool:
        failing = (
            (Severity.ERROR, Severity.CRITICAL) if self.fail_on_error else (Severity.CRITICAL,)
        )
        return any(m.severity in failing for m in messages)

    def _by_logical_name(
        self, files: Mapping[str, File] | Sequence[File], messages: list[ValidationMessage]
    ) -> dict[str, File]:
        if isinstance(files, Mapping):
            return dict(files)
        by_name: dict[str, File] = {}
        for file in files:
            if file.name in by_name:
                messages.append(
                    error_message(
                        f"two files have the logical name {file.name!r}", "duplicate_file"
                    )
                )
            by_name[file.name] = file
        return by_name

    # --- hooks -----------------------------------------------------------------------

    def extract(
        self, files: Mapping[str, File], messages: list[ValidationMessage]
    ) -> dict[str, dict[str, pd.DataFrame]]:
        """Read each file: logical name → its tables. Unknown and missing files are errors."""
        schemas = self.schemas_by_name
        raw: dict[str, dict[str, pd.DataFrame]] = {}
        for name, file in files.items():
            schema = schemas.get(name)
            if schema is None:
                known = ", ".join(s.filename for s in self.schemas) or "none"
                messages.append(
                    error_message(
                        f"{file.filename} matches no declared file (expected: {known})",
                        "unknown_file",
                        table=name,
                    )
                )
                continue
            if file.extension != schema.extension:
                messages.append(
                    error_message(
                        f"{file.filename}: {name!r} is declared as a .{schema.extension} file",
                        "wrong_extension",
                        table=name,
                    )
                )
                continue
            column_types = {
                c.name: c.column_type.value for cols in schema.tables.values() for c in cols
            }
            try:
                raw[name] = file.read(column_types=column_types)
            except FileReadError as exc:
                severity = Severity.ERROR if exc.code == "ragged_rows" else Severity.CRITICAL
                messages.append(ValidationMessage(severity, str(exc), table=name, code=exc.code))
            except Exception as exc:
                messages.append(
                    critical_message(
                        f"{file.filename} cannot be read: {exc}", "unreadable_file", name
                    )
                )
        for schema in self.schemas:
            if schema.required and schema.name not in files:
                messages.append(
                    error_message(
                        f"the required file {schema.filename} was not uploaded", "missing_file"
                    )
                )
        return raw

    def validate(
        self, raw: Mapping[str, Mapping[str, pd.DataFrame]], messages: list[ValidationMessage]
    ) -> dict[str, pd.DataFrame]:
        """Check and coerce every table against its schema: table name → frame."""
        schemas = self.schemas_by_name
        tables: dict[str, pd.DataFrame] = {}
        for name, file_tables in raw.items():
            schema = schemas[name]
            if not schema.has_sheets:
                if not file_tables:
                    messages.append(
                        error_message(f"{schema.filename} holds no table", "empty_file")
                    )
                    continue
                frame = next(iter(file_tables.values()))
                tables[name] = coerce_table(frame, schema.tables[name], name, messages)
                continue
            for sheet, columns in schema.tables.items():
                if sheet not in file_tables:
                    found = ", ".join(file_tables) or "none"
                    messages.append(
                        error_message(
                            f"{schema.filename} has no sheet {sheet!r} (found: {found})",
                            "missing_sheet",
                            table=sheet,
                        )
                    )
                    continue
                if sheet in tables:
                    messages.append(
                        error_message(
                            f"two files define the table {sheet!r}", "duplicate_table", sheet
                        )
                    )
                tables[sheet] = coerce_table(file_tables[sheet], columns, sheet, messages)
        tables = apply_schema_rules(tables, self.schemas, messages)
        for check in self.checks:
            tables = check(tables, messages)
        return tables

    def join(
        self,
        tables: Mapping[str, pd.DataFrame],
        left: str,
        right: str,
        how: Literal["left", "inner", "outer"] = "left",
    ) -> pd.DataFrame:
        """`left` with `right`'s columns, on the foreign key declared between them
        (`algomancy_data.relations.join`); for `transform`."""
        return join(tables, left, right, self.schemas, how)

    def transform(
        self, tables: dict[str, pd.DataFrame], messages: list[ValidationMessage]
    ) -> dict[str, pd.DataFrame]:
        """Derive or reshape tables; the default keeps them as they are."""
        return tables

    def load(
        self,
        tables: Mapping[str, pd.DataFrame],
        dataset_name: str,
        messages: list[ValidationMessage],
    ) -> DataSource:
        """Build the dataset from the final tables."""
        return self.data_source_class(
            dataset_name, DataClassification.MASTER_DATA, tables=dict(tables)
        )


class DefaultETLFactory(ETLFactory):
    """An ETL factory that needs only the schemas: read, check, coerce, load."""

    def __init__(self, schemas: Sequence[Schema], *, fail_on_error: bool = True) -> None:
        super().__init__(schemas, fail_on_error=fail_on_error)
