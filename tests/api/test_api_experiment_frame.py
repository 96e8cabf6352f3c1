"""The experiment frame's pages: only the page's points' scenarios are read, so a
page of a large experiment costs what a small experiment's frame does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_core.stores.base import Store
from tests.api.conftest import api_config
from tests.api.test_api_experiments import Cost, GrowthData, Knobs, M, finished, growth_data
from tests.pg import postgres_server, postgres_url  # noqa: F401


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    values: dict[str, Any] = {
        "algorithms": [Knobs],
        "kpis": [Cost],
        "initial_datasets": lambda: {"Master data": growth_data()},
        "data_object_type": GrowthData,
    }
    if request.param == "sqlite":
        values |= {"has_persistent_state": True, "data_path": str(tmp_path / "s")}
    elif request.param == "postgres":
        values["database_url"] = request.getfixturevalue("postgres_url")
    with TestClient(ApiLauncher.build(api_config(**values))) as test_client:
        yield test_client


def store_of(client: TestClient) -> Store:
    store: Store = client.app.state.sessions.runtime.store  # type: ignore[attr-defined]
    return store


def test_a_page_reads_only_its_points(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {
        "name": "g",
        "base": {"algo_name": "Knobs", "dataset_key": "Master data"},
        "design": {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2, 3, 4]}]},
    }
    made = client.post(f"{M}/experiments", json=body).json()
    finished(client, made["id"])
    store = store_of(client)
    asked: list[list[str]] = []
    paged: list[list[str]] = []
    by_ids = store.get_scenarios
    page_of = store.experiments.page

    def spy(session_id: str, ids: Any, *, summaries: bool = False) -> Any:
        assert summaries, "a frame page reads no results"
        asked.append(list(ids))
        return by_ids(session_id, ids, summaries=summaries)

    def page_spy(session_id: str, experiment_id: str, offset: int, limit: int | None) -> Any:
        page = page_of(session_id, experiment_id, offset, limit)
        paged.append([p.scenario_id for p in page.points] if page else [])
        return page

    def whole(session_id: str) -> Any:
        raise AssertionError("the frame read every scenario of the session")

    monkeypatch.setattr(store, "get_scenarios", spy)
    monkeypatch.setattr(store, "list_scenario_summaries", whole)
    monkeypatch.setattr(store.experiments, "page", page_spy)
    frame = client.get(f"{M}/experiments/{made['id']}/frame?offset=1&limit=2").json()
    assert [(r["point"], r["crews"], r["status"], r["cost"]) for r in frame["rows"]] == [
        (2, 2, "complete", 17.0),
        (3, 3, "complete", 18.0),
    ]
    assert frame["source"]["context"] == {"offset": 1, "limit": 2, "total_rows": 4}
    # Only the page's points are read (the SQL books join their scenarios' status
    # and KPIs into that read; the memory book's page is followed by a read of
    # those scenarios alone).
    assert paged == [made["scenario_ids"][1:3]]
    assert asked in ([], [made["scenario_ids"][1:3]])
    past = client.get(f"{M}/experiments/{made['id']}/frame?offset=9").json()
    assert past["rows"] == [] and past["source"]["context"]["total_rows"] == 4


def test_a_deleted_point_reads_missing(client: TestClient) -> None:
    body = {
        "name": "d",
        "base": {"algo_name": "Knobs", "dataset_key": "Master data"},
        "design": {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2]}]},
    }
    made = client.post(f"{M}/experiments", json=body).json()
    finished(client, made["id"])
    assert client.delete(f"{M}/scenarios/{made['scenario_ids'][0]}").status_code == 204
    rows = client.get(f"{M}/experiments/{made['id']}/frame").json()["rows"]
    assert [r["status"] for r in rows] == ["missing", "complete"]
    # Another session's scenarios are not read as this session's.
    other = client.post("/api/v1/sessions", json={"display_name": "other"}).json()
    found = store_of(client).get_scenarios(
        other["session"]["id"], made["scenario_ids"], summaries=True
    )
    assert found == []
