"""The exceptions of the scenario core; the API maps each family to one HTTP status."""

from __future__ import annotations

import errno
import sqlite3


class AlgomancyError(Exception):
    """Base class of the core's errors."""


class NotFoundError(AlgomancyError, LookupError):
    """A session, scenario, dataset, algorithm or KPI that does not exist (HTTP 404)."""


class ConflictError(AlgomancyError):
    """The request clashes with the current state: a taken name, a running scenario (HTTP 409)."""


class InvalidTransitionError(ConflictError, ValueError):
    """A scenario was asked to move to a state its current state does not lead to
    (HTTP 409): running a queued or processing one, resetting or cancelling one that
    is not in a state to. Also a `ValueError`, which `plan_transition` raised before;
    the API answers it as the `ConflictError` it is first."""


class InvalidInputError(AlgomancyError, ValueError):
    """Input that is malformed whatever the state (HTTP 400)."""


class ConfigurationError(AlgomancyError, ValueError):
    """A configuration value is wrong; the message names the field."""


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
