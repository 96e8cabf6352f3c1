"""The server imports the heavy data stack (pandas, pyarrow, Dask, openpyxl) when a
request needs it, not at start: a server at rest stays small (issue 23)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "pyarrow", "dask", "distributed", "openpyxl", "python_calamine", "optuna")

# A domain that imports no pandas itself (the example's does), served from SQLite:
# what the library loads on its own to build the app, start it and answer /health
# and a list; then an ETL upload, which needs pandas.
PROGRAM = textwrap.dedent(
    """
    import json, sys
    from fastapi.testclient import TestClient
    from algomancy_api import ApiLauncher
    from algomancy_core import BaseAlgorithm, BaseResult
    from algomancy_data import Column, Schema

    class Noop(BaseAlgorithm):
        name = "Noop"
        def run(self, data, ctx):
            return BaseResult({})

    config = {
        "title": "light",
        "algorithms": [Noop],
        "schemas": [Schema("orders", extension="csv", columns=[Column("id", "integer")])],
        "has_persistent_state": True,
        "data_path": sys.argv[1],
    }
    app = ApiLauncher.build(config)
    seen = {}
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/api/v1/sessions").status_code == 200
        seen["at_rest"] = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
        answer = client.post(
            "/api/v1/sessions/main/etl",
            data={"dataset_name": "orders"},
            files={"files": ("orders.csv", b"id\\n1\\n2\\n", "text/csv")},
        )
        assert answer.json()["success"] is True, answer.text
        seen["after_upload"] = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)
    print(json.dumps(seen))
    """
)


@pytest.mark.slow  # a fresh interpreter
def test_a_server_at_rest_has_not_imported_pandas_pyarrow_dask_or_openpyxl(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROGRAM}", str(tmp_path / "state")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["at_rest"] == []
    # The upload did need pandas, and got it on first use.
    assert "pandas" in seen["after_upload"]
