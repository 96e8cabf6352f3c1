"""The decision tests' domain for a server process: one KPI per direction."""

from __future__ import annotations

from typing import Any

from tests.decisions_domain import decisions_config


def settings() -> dict[str, Any]:
    return decisions_config()
