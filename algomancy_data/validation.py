"""Validation messages: what the ETL found, how bad it is, and where."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is; `error` and `critical` fail the ETL."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def is_error(self) -> bool:
        """True for `error` and `critical`."""
        return self in (Severity.ERROR, Severity.CRITICAL)


@dataclass(frozen=True, slots=True)
class ValidationMessage:
    """One finding of the ETL.

    `row` is the 1-based data row (the header is not counted), the first one
    concerned when the message covers several rows. `code` is a stable
    machine-readable key such as ``missing_column`` or ``invalid_value``.
    """

    severity: Severity
    message: str
    table: str | None = None
    column: str | None = None
    row: int | None = None
    code: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The message as a JSON-able dict."""
        return {
            "severity": self.severity.value,
            "message": self.message,
            "table": self.table,
            "column": self.column,
            "row": self.row,
            "code": self.code,
        }
