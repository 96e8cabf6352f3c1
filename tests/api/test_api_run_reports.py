"""`GET …/scenarios/{id}/reports`: a run's intermediate values as a tabular frame, and
`pruned` on the scenario; through HTTP and the client."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from algomancy_api import AlgomancyClient
from tests.core.conftest import Gated
from tests.core.report_algorithms import Descending, Reporter, value_at
from tests.fixtures import TABULAR_FRAME_V1_SCHEMA, fixture_file
from tests.polling import wait_for

from .conftest import PREFIX, ClientFactory

M = f"{PREFIX}/sessions/main"


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client(algorithms=[Reporter, Descending, Gated])


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        json.loads(fixture_file(TABULAR_FRAME_V1_SCHEMA).read_text())
    )


def valid(frame: dict[str, Any], validator: jsonschema.Draft202012Validator) -> dict[str, Any]:
    assert [e.message for e in validator.iter_errors(frame)] == []
    return frame


def create(client: TestClient, tag: str, algorithm: str, **params: Any) -> str:
    r = client.post(
        f"{M}/scenarios",
        json={
            "tag": tag,
            "dataset_key": "Master data",
            "algo_name": algorithm,
            "algo_params": params,
        },
    )
    assert r.status_code == 201, r.text
    scenario_id: str = r.json()["id"]
    return scenario_id


def finished(client: TestClient, scenario_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any]:
        body: dict[str, Any] = client.get(f"{M}/scenarios/{scenario_id}").json()
        return body

    return wait_for(probe, lambda s: s["status"] in ("complete", "failed"))


def test_the_reports_of_a_run_as_a_frame(
    client: TestClient, validator: jsonschema.Draft202012Validator
) -> None:
    scenario_id = create(client, "r", "Reporter", steps=12)
    before = valid(client.get(f"{M}/scenarios/{scenario_id}/reports").json(), validator)
    assert before["rows"] == [] and [f["key"] for f in before["fields"]] == ["step", "value"]
    assert client.post(f"{M}/scenarios/{scenario_id}/run").status_code == 202
    assert finished(client, scenario_id)["status"] == "complete"
    frame = valid(client.get(f"{M}/scenarios/{scenario_id}/reports").json(), validator)
    assert {f["key"]: f["type"] for f in frame["fields"]} == {"step": "integer", "value": "number"}
    assert frame["rows"] == [{"step": s, "value": value_at(s)} for s in range(12)]
    assert frame["source"]["kind"] == "scenario-reports"
    assert frame["source"]["context"]["total_rows"] == 12
    page = valid(
        client.get(
            f"{M}/scenarios/{scenario_id}/reports", params={"offset": 10, "limit": 5}
        ).json(),
        validator,
    )
    assert page["rows"] == [{"step": s, "value": value_at(s)} for s in (10, 11)]
    # A reset clears them.
    assert client.post(f"{M}/scenarios/{scenario_id}/reset").status_code == 200
    assert client.get(f"{M}/scenarios/{scenario_id}/reports").json()["rows"] == []


def test_reports_of_a_missing_scenario_or_bad_paging(client: TestClient) -> None:
    r = client.get(f"{M}/scenarios/nope/reports")
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    scenario_id = create(client, "r", "Reporter")
    r = client.get(f"{M}/scenarios/{scenario_id}/reports", params={"limit": 0})
    assert r.status_code == 422 and "limit" in r.text


def test_a_scenario_says_whether_its_run_was_pruned(make_client: ClientFactory) -> None:
    client = make_client(algorithms=[Reporter, Descending, Gated])
    scenario_id = create(client, "d", "Descending")
    assert client.get(f"{M}/scenarios/{scenario_id}").json()["pruned"] is False
    client.post(f"{M}/scenarios/{scenario_id}/run")
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    main = sessions.get_session("main")
    reported = wait_for(lambda: main.reports(scenario_id))
    main.request_prune(scenario_id, reported[-1][0])
    done = finished(client, scenario_id)
    assert (done["status"], done["pruned"]) == ("failed", True)
    assert done["error"] == f"pruned at step {reported[-1][0]}"


def test_the_client_reads_the_reports(client: TestClient) -> None:
    api = AlgomancyClient(http=client)
    scenario = api.create_scenario("r", "Master data", "Reporter", {"steps": 3})
    api.run(scenario.id)
    done = api.wait(scenario.id, timeout=60, interval=0.01, progress=False)
    assert done.status == "complete" and done.pruned is False
    frame = api.scenario_reports(scenario.id)
    assert frame.rows == [{"step": s, "value": value_at(s)} for s in range(3)]
    df = frame.to_pandas()
    assert list(df["step"]) == [0, 1, 2]
