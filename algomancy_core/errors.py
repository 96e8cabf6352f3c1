"""The exceptions of the scenario core; the API maps each family to one HTTP status."""

from __future__ import annotations

import errno
import sqlite3


class CoreError(Exception):
    """Base class of the scenario core's errors (the HTTP client's is
    `algomancy_api.client.AlgomancyError`; this one was called so too before)."""


class NotFoundError(CoreError, LookupError):
    """A session, scenario, dataset, algorithm or KPI that does not exist (HTTP 404)."""


class ConflictError(CoreError):
    """The request clashes with the current state: a taken name, a running scenario (HTTP 409)."""


class InvalidTransitionError(ConflictError, ValueError):
    """A scenario was asked to move to a state its current state does not lead to
    (HTTP 409): running a queued or processing one, resetting or cancelling one that
    is not in a state to. Also a `ValueError`, which `plan_transition` raised before;
    the API answers it as the `ConflictError` it is first."""


class InvalidInputError(CoreError, ValueError):
    """Input that is malformed whatever the state (HTTP 400)."""


class ConfigurationError(CoreError, ValueError):
    """A configuration value is wrong; the message names the field."""


def __getattr__(name: str) -> type[CoreError]:
    """`AlgomancyError`, `CoreError`'s old name (kept in `algomancy_core.compat`)."""
    if name == "AlgomancyError":
        # Not imported from the compat module: that one imports the runtime, and the
        # errors are below everything.
        return CoreError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: SQLite's result code for "database or disk is full".
_SQLITE_FULL = 13
#: PostgreSQL's SQLSTATE for "disk full".
_PG_DISK_FULL = "53100"


def storage_full(exc: BaseException) -> str | None:
    """Why `exc` (or an exception it was raised from or wraps) says the storage is
    full, or None: SQLite's "database or disk is full", an `OSError` with ENOSPC or
    EDQUOT, or PostgreSQL's disk full (SQLSTATE 53100)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return current.strerror or "no space left on device"
        if getattr(current, "sqlite_errorcode", None) == _SQLITE_FULL or (
            isinstance(current, sqlite3.OperationalError)
            and "database or disk is full" in str(current)
        ):
            return "the SQLite database or its disk is full"
        if getattr(current, "sqlstate", None) == _PG_DISK_FULL or (
            getattr(current, "pgcode", None) == _PG_DISK_FULL
        ):
            return "PostgreSQL's disk is full"
        # SQLAlchemy keeps the driver's exception in `orig`.
        orig = getattr(current, "orig", None)
        pending += [
            current.__cause__,
            current.__context__,
            orig if isinstance(orig, BaseException) else None,
        ]
    return None
