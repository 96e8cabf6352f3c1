"""A throwaway PostgreSQL cluster for the benchmarks, started the way the tests start
theirs (`tests/pg.py`: the local binaries, a Unix socket in a private folder, no TCP
port; fsync off, as for the tests).

    with postgres_cluster() as cluster:
        url = cluster.new_database()
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import sql

from tests.pg import PG_BIN, PostgresServer, running_cluster


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
    """A cluster started by `tests.pg.running_cluster`, as the tests start theirs."""
    with running_cluster("algomancy-bench-pg-") as server:
        yield Cluster(directory=server.directory)
