"""Which `database_url` values the stores support, checked without importing SQLAlchemy.

Supported: SQLite files (``sqlite:///relative/file.db``, ``sqlite:////absolute/file.db``,
``sqlite+pysqlite:///...``) and PostgreSQL through psycopg 3 (``postgresql://``,
``postgres://``, ``postgresql+psycopg://``). Anything else is refused with a message
that says what to write instead.
"""

from __future__ import annotations

import re

from algomancy_core.errors import ConfigurationError

_URL = re.compile(
    r"^(?P<backend>[A-Za-z][A-Za-z0-9_]*)(?:\+(?P<driver>[A-Za-z0-9_]+))?://(?P<rest>.*)$"
)

#: Backend → the drivers our stores run with (None: the backend's default driver).
SUPPORTED: dict[str, tuple[str | None, ...]] = {
    "sqlite": (None, "pysqlite"),
    "postgresql": (None, "psycopg"),
    "postgres": (None, "psycopg"),
}

EXAMPLES = "sqlite:///path/to/state.db or postgresql+psycopg://user:password@host/database"


def check_database_url(url: str) -> None:
    """Raise `ConfigurationError` unless a store of ours can use `url`."""
    match = _URL.match(url.strip())
    if match is None:
        raise ConfigurationError(
            f"database_url: not a SQLAlchemy URL (dialect[+driver]://...); write {EXAMPLES}"
        )
    backend, driver = match["backend"].lower(), match["driver"]
    drivers = SUPPORTED.get(backend)
    if drivers is None:
        raise ConfigurationError(
            f"database_url: {backend!r} databases are not supported (SQLite and PostgreSQL "
            f"are); write {EXAMPLES}"
        )
    if (driver.lower() if driver else None) not in drivers:
        wanted = "sqlite:///" if backend == "sqlite" else "postgresql+psycopg:// (psycopg 3)"
        raise ConfigurationError(
            f"database_url: the driver {driver!r} is not supported for {backend}; write {wanted}"
        )
    if backend == "sqlite":
        database = match["rest"].partition("?")[0]
        # sqlite:///file.db → "/file.db" after the scheme; the path follows the third slash.
        path = database[1:] if database.startswith("/") else ""
        if database and not database.startswith("/"):
            raise ConfigurationError(
                "database_url: a SQLite URL has no host: write sqlite:///relative/file.db "
                "or sqlite:////absolute/file.db"
            )
        if not path or path == ":memory:":
            raise ConfigurationError(
                "database_url: a SQLite store needs a file path (sqlite:///path/to/state.db); "
                "leave database_url and has_persistent_state unset for state in memory"
            )
