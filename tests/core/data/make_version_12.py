"""Write the databases that `test_core_batch_claims.py` migrates to version 13: a
SQLite file and a PostgreSQL dump, each filled by the code of schema version 12
(this repository at `VERSION_12`, unpacked with `git archive`): a session with a
dataset, a complete scenario, a created one and a complete 2-point experiment.
Committed, so that the test runs where no git history is at hand. Run from the
repository root:

    python -m tests.core.data.make_version_12
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
#: Main before batch scenarios (schema version 12).
VERSION_12 = "41e6393ea39d44af8b5a9a9265d647047bd091a6"
FILL = """
import json, sys
import pandas as pd
from algomancy_core import CoreConfig, SessionManager
from algomancy_core.experiments.service import create_experiment
from algomancy_core.stores.sql import SCHEMA_VERSION
from algomancy_data import DataSource
from tests.core.conftest import Instant, Total

assert SCHEMA_VERSION == 12, SCHEMA_VERSION

config = CoreConfig(algorithms=[Instant], kpis=[Total], database_url=sys.argv[1])
with SessionManager(config) as sessions:
    main = sessions.get_session("main")
    main.add_dataset("week1", DataSource("week1", tables={"items": pd.DataFrame({"qty": [1, 2]})}))
    done = main.create_scenario("done", "week1", "Instant")
    main.run_scenario(done.id)
    main.wait(done.id)
    waiting = main.create_scenario("waiting", "week1", "Instant", {"count": 7})
    base = {"algo_name": "Instant", "dataset_key": "week1"}
    design = {"kind": "grid", "axes": [{"name": "count", "values": [1, 2]}]}
    grid = create_experiment(main, "grid", base, design, 10)
    for scenario_id in grid.scenario_ids:
        main.wait(scenario_id)
    print(json.dumps({"done": done.id, "waiting": waiting.id, "experiment": grid.id,
                      "points": grid.scenario_ids, "schema": SCHEMA_VERSION}))
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
            ["git", "-C", str(ROOT), "archive", VERSION_12], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
        sqlite = HERE / "version_12.sqlite3"
        sqlite.unlink(missing_ok=True)
        ids = {"sqlite": fill(code, f"sqlite:///{sqlite}")}
        # The reserve the SQLite store keeps against a full disk is made again on open.
        Path(f"{sqlite}-reserve").unlink(missing_ok=True)
        with running_cluster() as server:
            with server.admin() as conn:
                conn.execute("CREATE DATABASE version_12")
            ids["postgres"] = fill(code, server.url("version_12"))
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
                    "version_12",
                ),
                capture_output=True,
                text=True,
                check=True,
            )
        # psql's meta-commands (`\\restrict`) are not SQL: the test runs the dump
        # through psycopg.
        lines = [line for line in dump.stdout.splitlines() if not line.startswith("\\")]
        (HERE / "version_12.postgres.sql").write_text("\n".join(lines) + "\n")
    (HERE / "version_12.json").write_text(json.dumps(ids, indent=2) + "\n")


if __name__ == "__main__":
    main()
