"""Databases written by an older commit's code, committed beside the migration tests
that open them (so that those tests run where no git history is at hand): a SQLite
file, a PostgreSQL dump and the ids the filling script printed. Each `make_*.py`
script beside such a test names its commit and its filling script and calls `write`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.pg import PG_BIN, _as_postgres, running_cluster
from tests.server import ROOT


def fill(code: Path, script: str, url: str) -> dict[str, object]:
    """Run `script` (Python) with the old `code` against the database at `url`; the
    JSON object its last line prints."""
    done = subprocess.run(
        [sys.executable, "-c", script, url],
        cwd=code,
        env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    ids: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return ids


def write(commit: str, script: str, folder: Path, name: str) -> None:
    """Fill a new SQLite file and a new PostgreSQL database with `script` run by the
    code of `commit` (unpacked with `git archive`); write `{name}.sqlite3`,
    `{name}.postgres.sql` and `{name}.json` (the ids, per database) in `folder`."""
    with tempfile.TemporaryDirectory() as scratch:
        code = Path(scratch) / "code"
        code.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
        sqlite = folder / f"{name}.sqlite3"
        sqlite.unlink(missing_ok=True)
        ids = {"sqlite": fill(code, script, f"sqlite:///{sqlite}")}
        # The reserve the SQLite store keeps against a full disk is made again on open.
        Path(f"{sqlite}-reserve").unlink(missing_ok=True)
        with running_cluster() as server:
            with server.admin() as conn:
                conn.execute(f"CREATE DATABASE {name}")
            ids["postgres"] = fill(code, script, server.url(name))
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
                    name,
                ),
                capture_output=True,
                text=True,
                check=True,
            )
        # psql's meta-commands (`\restrict`) are not SQL: the tests run the dump
        # through psycopg.
        lines = [line for line in dump.stdout.splitlines() if not line.startswith("\\")]
        (folder / f"{name}.postgres.sql").write_text("\n".join(lines) + "\n")
    (folder / f"{name}.json").write_text(json.dumps(ids, indent=2) + "\n")
