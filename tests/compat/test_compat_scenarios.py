"""Scenario routes as the reference's clients use them; where seed 002 differs, the seed wins."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.polling import scenario_status

from .conftest import MAIN, PREFIX

ABC = {"tag": "abc", "dataset_key": "Master data", "algo_name": "ABC slotting"}


def create(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post(f"{MAIN}/scenarios", json=ABC | body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def run_to_end(client: TestClient, scenario_id: str) -> dict[str, Any]:
    path = f"{MAIN}/scenarios/{scenario_id}"
    assert client.post(f"{path}/run").status_code == 202
    scenario_status(client.get, path, {"complete", "failed"})
    result: dict[str, Any] = client.get(path).json()
    return result


def test_reset_clears_a_complete_run(client: TestClient) -> None:
    scenario = create(client)
    done = run_to_end(client, scenario["id"])
    assert done["status"] == "complete"
    assert all(k["value"] is not None for k in done["kpis"].values())
    r = client.post(f"{MAIN}/scenarios/{scenario['id']}/reset")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["result"], body["progress"], body["error"]) == (
        "created",
        None,
        0.0,
        None,
    )
    assert all(k["value"] is None for k in body["kpis"].values())
    assert (body["started_at"], body["finished_at"]) == (None, None)
    status = client.get(f"{MAIN}/scenarios/{scenario['id']}/status").json()
    assert (status["status"], status["progress"]) == ("created", 0.0)
    # And it runs again.
    assert run_to_end(client, scenario["id"])["status"] == "complete"


def test_reset_of_a_created_scenario_changes_nothing(client: TestClient) -> None:
    scenario = create(client)
    r = client.post(f"{MAIN}/scenarios/{scenario['id']}/reset")
    assert r.status_code == 200 and r.json() == scenario


def test_reset_is_refused_while_in_flight(client: TestClient) -> None:
    scenario = create(client, tag="slow", algo_name="Slow", algo_params={"duration": 30})
    path = f"{MAIN}/scenarios/{scenario['id']}"
    assert client.post(f"{path}/run").status_code == 202
    r = client.post(f"{path}/reset")
    assert r.status_code == 409
    assert "slow" in r.json()["detail"]
    client.post(f"{path}/cancel")
    assert scenario_status(client.get, path, {"failed"})["status"] == "failed"
    assert client.post(f"{path}/reset").json()["error"] is None


def test_reset_of_an_unknown_scenario_is_404(client: TestClient) -> None:
    assert client.post(f"{MAIN}/scenarios/nope/reset").status_code == 404
    assert client.post(f"{PREFIX}/sessions/nobody/scenarios/nope/reset").status_code == 404


def test_run_reruns_a_terminal_scenario(client: TestClient) -> None:
    """The reference answers 409 here ("reset it first"); seed 002 re-runs."""
    scenario = create(client)
    assert run_to_end(client, scenario["id"])["status"] == "complete"
    again = client.post(f"{MAIN}/scenarios/{scenario['id']}/run")
    assert again.status_code == 202 and again.json()["status"] == "queued"
    assert all(k["value"] is None for k in again.json()["kpis"].values())


def test_kpi_values_are_null_until_complete(client: TestClient) -> None:
    """The reference shows an "uncomputed" sentinel; seed 002 says null."""
    scenario = create(client)
    assert scenario["kpis"] and all(k["value"] is None for k in scenario["kpis"].values())
    (listed,) = client.get(f"{MAIN}/scenarios", params={"view": "summary"}).json()
    assert all(k["value"] is None for k in listed["kpis"].values())
    done = run_to_end(client, scenario["id"])
    assert all(k["value"] is not None for k in done["kpis"].values())


def test_progress_is_a_fraction(client: TestClient) -> None:
    """The reference reports 0..100 in places; seed 002 says [0, 1]."""
    scenario = create(client)
    done = run_to_end(client, scenario["id"])
    assert done["progress"] == 1.0
    status = client.get(f"{MAIN}/scenarios/{scenario['id']}/status").json()
    assert status["progress"] == 1.0


def test_reset_route_is_in_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "post" in paths[f"{PREFIX}/sessions/{{session_id}}/scenarios/{{scenario_id}}/reset"]
