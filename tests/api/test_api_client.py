"""`AlgomancyClient` against the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from algomancy_api import AlgomancyClient, AlgomancyError
from algomancy_data import Column, Schema

from .conftest import ClientFactory

ITEMS = Schema("items", columns=[Column("sku", "string", primary_key=True)])


@pytest.fixture
def api(make_client: ClientFactory) -> AlgomancyClient:
    client: TestClient = make_client(schemas=[ITEMS])
    return AlgomancyClient(http=client)


def test_run_to_completion(api: AlgomancyClient) -> None:
    assert api.algorithms() == ["Instant", "Gated", "Broken"]
    assert api.parameters("Instant")[0].name == "count"
    scenario = api.create_scenario("c", "Master data", "Instant", {"count": 4})
    assert api.run(scenario.id).status == "queued"
    done = api.wait(scenario.id, timeout=10, interval=0.01, progress=False)
    assert done.status == "complete" and done.result == {"total": 6, "count": 4}
    statuses = [e.status for e in api.events(scenario.id)]
    assert statuses[-1] == "complete"
    assert api.kpi_frame().rows[0]["total"] == 6.0
    assert [s.tag for s in api.scenarios()] == ["c"]
    api.delete_scenario(scenario.id)
    assert api.scenarios() == []


def test_errors_carry_status_and_detail(api: AlgomancyClient) -> None:
    with pytest.raises(AlgomancyError) as caught:
        api.create_scenario("x", "Master data", "Nope")
    assert caught.value.status == 404 and "Nope" in caught.value.detail
    with pytest.raises(AlgomancyError) as caught:
        api.scenario("missing")
    assert caught.value.status == 404


def test_sessions_and_upload(api: AlgomancyClient, tmp_path: Path) -> None:
    created = api.create_session("other")
    assert created.display_name == "other"
    assert [s.display_name for s in api.sessions().sessions] == ["main", "other"]
    file = tmp_path / "items.csv"
    file.write_text("sku\nA\nB\n")
    answer = api.upload("mine", file)
    assert answer.success is True and "mine" in api.datasets()
    api.delete_session("other")
    assert [s.display_name for s in api.sessions().sessions] == ["main"]
