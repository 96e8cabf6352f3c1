"""Write the databases that `test_api_versions_migration.py` migrates: a SQLite file
and a PostgreSQL dump, each filled by the code from before dataset versions.

The earlier code is this repository at `BEFORE_VERSIONS`, unpacked with `git
archive`; the files are committed so that the test runs where no git history is at
hand (CI copies the checkout without `.git`). Run from the repository root:

    python -m tests.api.data.make_before_versions
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.pg import PG_BIN, _as_postgres, running_cluster
from tests.server import ROOT

HERE = Path(__file__).parent
#: Main before dataset versions (schema version 8).
BEFORE_VERSIONS = "3e83bf7a6a57315e02afc070ae0dcedea65ffe1d"
FILL = """
import json, sys
import pandas as pd
from algomancy_core import CoreConfig, SessionManager
from algomancy_core.stores.sql import SCHEMA_VERSION
from algomancy_data import DataSource
from tests.core.conftest import Instant, Total

assert SCHEMA_VERSION < 9, SCHEMA_VERSION

def items(qty):
    return DataSource("week1", tables={"items": pd.DataFrame({"qty": qty})})

config = CoreConfig(algorithms=[Instant], kpis=[Total], database_url=sys.argv[1])
with SessionManager(config) as sessions:
    main = sessions.get_session("main")
    main.add_dataset("week1", items([1, 2, 3]))
    before = main.create_scenario("before", "week1", "Instant")
    main.run_scenario(before.id)
    main.wait(before.id)
    main.add_dataset("week1", items([2, 4, 6]), replace=True)
    after = main.create_scenario("after", "week1", "Instant")
    main.run_scenario(after.id)
    main.wait(after.id)
    print(json.dumps({"before": before.id, "after": after.id, "schema": SCHEMA_VERSION}))
"""


def fill(code: Path, url: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", FILL, url],
        cwd=code,
        env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    ids: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return ids


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        code = Path(folder) / "code"
        code.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BEFORE_VERSIONS], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
        sqlite = HERE / "before_versions.sqlite3"
        sqlite.unlink(missing_ok=True)
        ids = {"sqlite": fill(code, f"sqlite:///{sqlite}")}
        # The reserve the SQLite store keeps against a full disk is made again on open.
        Path(f"{sqlite}-reserve").unlink(missing_ok=True)
        with running_cluster() as server:
            with server.admin() as conn:
                conn.execute("CREATE DATABASE before_versions")
            ids["postgres"] = fill(code, server.url("before_versions"))
            dump = subprocess.run(
                _as_postgres(
                    str(PG_BIN / "pg_dump"),
                    "--inserts",
                    "--no-owner",
                    "--no-privileges",
                    "-h",
                    str(server.directory),
                    "-U",
                    "postgres",
                    "before_versions",
                ),
                capture_output=True,
                text=True,
                check=True,
            )
        # psql's meta-commands (`\restrict`) are not SQL: the test runs the dump
        # through psycopg.
        lines = [line for line in dump.stdout.splitlines() if not line.startswith("\\")]
        (HERE / "before_versions.postgres.sql").write_text("\n".join(lines) + "\n")
    (HERE / "before_versions.json").write_text(json.dumps(ids, indent=2) + "\n")


if __name__ == "__main__":
    main()
