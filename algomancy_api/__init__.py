"""HTTP API of Algomancy: configuration, launcher, routers, wire models and client.

The names are imported on first use, so that `import algomancy_api.client` (and the
`algomancy-api` command's client commands) load no server stack."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from algomancy_api.client import AlgomancyClient, AlgomancyError
    from algomancy_api.config import ApiConfiguration
    from algomancy_api.launcher import ApiLauncher

__all__ = ["AlgomancyClient", "AlgomancyError", "ApiConfiguration", "ApiLauncher"]

_HOMES = {
    "AlgomancyClient": "algomancy_api.client",
    "AlgomancyError": "algomancy_api.client",
    "ApiConfiguration": "algomancy_api.config",
    "ApiLauncher": "algomancy_api.launcher",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'algomancy_api' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
