"""A database filled by the code from before dataset versions, opened by this code:
nothing is lost, scenarios provably run on the kept data are pinned to version 1, and
the others are marked as of unknown lineage.

The databases are files in `data/`, written by the earlier code (this repository at
the last commit of main before dataset versions) with `data/make_before_versions.py`;
committed, so that the test runs where no git history is at hand.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa

from algomancy_data import DataSource, content_digest
from tests.core.conftest import Instant, Total
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import scenario_status

from .conftest import PREFIX, ClientFactory

M = f"{PREFIX}/sessions/main"
DATA = Path(__file__).parent / "data"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def earlier_database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """A database URL filled by the earlier code (`data/make_before_versions.py`
    wrote the files), and the ids of its two scenarios."""
    ids: dict[str, Any] = json.loads((DATA / "before_versions.json").read_text())[request.param]
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        dump = (DATA / "before_versions.postgres.sql").read_text()
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute(dump.encode())
        return url, ids
    copy = tmp_path / "old.sqlite3"
    shutil.copyfile(DATA / "before_versions.sqlite3", copy)
    return f"sqlite:///{copy}", ids


def test_a_database_of_the_earlier_code_migrates_with_no_loss(
    earlier_database: tuple[str, dict[str, Any]], make_client: ClientFactory, tmp_path: Path
) -> None:
    database_url, ids = earlier_database
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
