"""A real PostgreSQL server for tests, started from the local binaries.

Import the fixtures into a test module::

    from tests.pg import postgres_server, postgres_url  # noqa: F401

`postgres_server` (session scope) runs one throwaway cluster; `postgres_url`
(function scope) creates a fresh database on it for each test and drops it after.
Where the binaries are missing the PostgreSQL tests skip and say what to install;
under `CI=true` (or `ALGOMANCY_REQUIRE_POSTGRES=1`) they fail instead, so that CI
always runs them.

The cluster listens on a Unix socket in its own temporary folder and on no TCP port:
nothing to pick, so nothing another process could take first.
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PG_BIN = Path(os.environ.get("ALGOMANCY_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"


REQUIRE_ENV = "ALGOMANCY_REQUIRE_POSTGRES"
#: The socket's name carries a port number even without TCP; the folder is private.
SOCKET_PORT = 5432


@dataclasses.dataclass(frozen=True)
class PostgresServer:
    """A running cluster: where it listens and how to reach its maintenance database."""

    directory: Path

    def url(self, database: str, *, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{PG_USER}@/{database}?host={self.directory}&port={SOCKET_PORT}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=str(self.directory),
            port=SOCKET_PORT,
            user=PG_USER,
            dbname="postgres",
            autocommit=True,
        )


def _as_postgres(*command: str) -> list[str]:
    """`command` run as the postgres user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *command]
    return list(command)


def _run(*command: str) -> None:
    done = subprocess.run(_as_postgres(*command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


def postgres_required() -> bool:
    """Whether missing binaries fail the run (CI) rather than skip the tests."""
    return os.environ.get("CI", "").lower() in ("1", "true") or os.environ.get(REQUIRE_ENV) == "1"


def require_binaries() -> None:
    """Skip (or, under CI, fail) naming what to install when initdb/pg_ctl are missing."""
    missing = [name for name in ("initdb", "pg_ctl") if not (PG_BIN / name).exists()]
    if not missing:
        return
    message = (
        f"PostgreSQL server binaries {', '.join(missing)} not found in {PG_BIN}: "
        "install them (Debian/Ubuntu: apt-get install postgresql-15) or point "
        "ALGOMANCY_PG_BIN at their folder"
    )
    if postgres_required():
        pytest.fail(f"{message} (CI=true: the PostgreSQL tests must run)")
    pytest.skip(message)


@contextmanager
def running_cluster(prefix: str = "algomancy-pg-") -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL 15 cluster in a temporary folder (a Unix socket, no TCP
    port; durability off), stopped and removed on exit. The tests and the
    benchmarks (`benchmarks/postgres.py`) both start theirs with it."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        user = pwd.getpwnam(PG_USER)
        os.chown(directory, user.pw_uid, user.pw_gid)
    data = directory / "data"
    started = False
    try:
        _run(
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            PG_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        # Durability is of no use to a throwaway cluster; speed is.
        options = (
            f"-p {SOCKET_PORT} -k {directory} -c listen_addresses='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        _run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(directory / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        started = True
        yield PostgresServer(directory=directory)
    finally:
        if started:
            subprocess.run(
                _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL 15 cluster for the whole test session, removed afterwards."""
    require_binaries()
    with running_cluster() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A `postgresql+psycopg://` URL of an empty database of its own for this test."""
    name = f"test_{uuid.uuid4().hex}"
    with postgres_server.admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_server.url(name)
    finally:
        with postgres_server.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
