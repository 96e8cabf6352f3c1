"""A database filled by the code from before dataset versions, opened by this code:
nothing is lost, scenarios provably run on the kept data are pinned to version 1, and
the others are marked as of unknown lineage.

The earlier code is this repository at `BEFORE_VERSIONS` (the last commit of main
before dataset versions), unpacked with `git archive` and run in a subprocess; the
test skips where no git history is at hand (an installed wheel).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from algomancy_data import DataSource, content_digest
from tests.core.conftest import Instant, Total
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import scenario_status
from tests.server import ROOT

from .conftest import PREFIX, ClientFactory

#: Runs the earlier code in another interpreter.
pytestmark = pytest.mark.slow

#: Main before dataset versions (schema version 8).
BEFORE_VERSIONS = "3e83bf7a6a57315e02afc070ae0dcedea65ffe1d"
M = f"{PREFIX}/sessions/main"

FILL = textwrap.dedent(
    """
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
)


@pytest.fixture(scope="module")
def earlier_code(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("no git history to take the earlier code from")
    target = tmp_path_factory.mktemp("before-versions")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BEFORE_VERSIONS],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        pytest.skip(f"commit {BEFORE_VERSIONS} is not in this clone")
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    yield target


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite:///{tmp_path / 'old.sqlite3'}"


def fill(code: Path, url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", FILL, url],
        cwd=code,
        env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    ids: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return ids


def test_a_database_of_the_earlier_code_migrates_with_no_loss(
    earlier_code: Path, database_url: str, make_client: ClientFactory, tmp_path: Path
) -> None:
    ids = fill(earlier_code, database_url)
    assert ids["schema"] < 9
    client = make_client(
        algorithms=[Instant],
        kpis=[Total],
        database_url=database_url,
        data_path=tmp_path / "state",  # not ./algomancy-data in the checkout
    )
    current = DataSource("week1", tables={"items": pd.DataFrame({"qty": [2, 4, 6]})})
    (version,) = client.get(f"{M}/data/week1/versions").json()["versions"]
    assert version["version"] == 1 and version["digest"] == content_digest(current)
    assert sorted(version["scenario_ids"]) == sorted([ids["before"], ids["after"]])

    before = client.get(f"{M}/scenarios/{ids['before']}").json()
    assert before["dataset_version"] is None and before["lineage"]["known"] is False
    assert before["kpis"]["total"]["value"] == 6 and before["result"]["total"] == 6
    after = client.get(f"{M}/scenarios/{ids['after']}").json()
    assert after["dataset_version"] == 1 and after["dataset_digest"] == version["digest"]
    assert after["lineage"]["known"] is True and after["kpis"]["total"]["value"] == 12
    # The content moved to the blobs: stored once, no longer in the old column.
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            old = conn.execute(sa.text("SELECT sum(length(data)) FROM datasets")).scalar()
            blobs = conn.execute(sa.text("SELECT count(*) FROM dataset_blobs")).scalar()
    finally:
        engine.dispose()
    assert old == 0 and blobs >= 1

    # A re-run of the unknown one is pinned to the kept version and says so.
    assert client.post(f"{M}/scenarios/{ids['before']}/run").status_code == 202
    path = f"{M}/scenarios/{ids['before']}"
    assert scenario_status(client.get, path, {"complete", "failed"})["status"] == "complete"
    rerun = client.get(path).json()
    assert rerun["dataset_version"] == 1 and rerun["lineage"]["known"] is True
    assert rerun["kpis"]["total"]["value"] == 12 and rerun["fingerprint"] is not None
    # A new upload is version 2; the migrated scenarios stay on version 1.
    r = client.post(
        f"{M}/data/from-json?new_version=true",
        content=DataSource("week1", tables={"items": pd.DataFrame({"qty": [7]})}).to_json(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert client.get(f"{M}/scenarios/{ids['after']}").json()["dataset_version"] == 1
