"""A throwaway PostgreSQL cluster for the benchmarks, started the way the tests start
theirs (`tests/pg.py`: the local binaries, a Unix socket in a private folder, no TCP
port; fsync off, as for the tests).

    with postgres_cluster() as cluster:
        url = cluster.new_database()
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from psycopg import sql

from tests.pg import PG_BIN, PG_USER, SOCKET_PORT, PostgresServer, _as_postgres, _run


class Cluster(PostgresServer):
    def new_database(self) -> str:
        """The URL of a fresh, empty database on the cluster."""
        name = f"bench_{uuid.uuid4().hex}"
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


def available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


@contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    directory = Path(tempfile.mkdtemp(prefix="algomancy-bench-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(PG_USER)
        os.chown(directory, user.pw_uid, user.pw_gid)
    data = directory / "data"
    started = False
    try:
        _run(str(PG_BIN / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust", "--no-sync")
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
        yield Cluster(directory=directory)
    finally:
        if started:
            subprocess.run(
                _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(directory, ignore_errors=True)
