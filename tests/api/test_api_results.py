"""Result tables of a scenario, listed and served as tabular frames."""

from __future__ import annotations

import json

import jsonschema
from fastapi.testclient import TestClient

from tests.core.conftest import Instant
from tests.core.test_core_scenario_manager import Tabled

from .conftest import PREFIX, ClientFactory
from .test_api_data import SCHEMA_FILE
from .test_api_scenarios import poll

M = f"{PREFIX}/sessions/main"


def test_result_tables_and_frames(make_client: ClientFactory) -> None:
    client: TestClient = make_client(algorithms=[Instant, Tabled])
    body = {"tag": "t", "dataset_key": "Master data", "algo_name": "Tabled"}
    scenario_id = client.post(f"{M}/scenarios", json=body).json()["id"]
    r = client.get(f"{M}/scenarios/{scenario_id}/result/tables")
    assert r.status_code == 409 and "not complete" in r.json()["detail"]
    client.post(f"{M}/scenarios/{scenario_id}/run")
    assert poll(client, scenario_id)["status"] == "complete"
    tables = client.get(f"{M}/scenarios/{scenario_id}/result/tables").json()
    assert tables == {"tables": [{"name": "lines", "rows": 3, "columns": ["line", "qty"]}]}
    frame = client.get(
        f"{M}/scenarios/{scenario_id}/result/tables/lines/frame", params={"offset": 1}
    ).json()
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(frame)
    assert frame["rows"] == [{"line": 1, "qty": 6}, {"line": 2, "qty": 9}]
    assert frame["source"]["kind"] == "scenario-result"
    assert client.get(f"{M}/scenarios/{scenario_id}/result/tables/nope/frame").status_code == 404
    assert client.get(f"{M}/scenarios/nope/result/tables").status_code == 404
