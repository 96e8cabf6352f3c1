"""Data parameters: declared by a dataset, described, validated on create, run with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_api.example import build_example_config
from tests.api.conftest import api_config
from tests.polling import scenario_status

from .conftest import MAIN, TEST_HOSTS

ABC = {"tag": "abc", "dataset_key": "Master data", "algo_name": "ABC slotting"}


def test_a_dataset_describes_its_parameters(client: TestClient) -> None:
    body = client.get(f"{MAIN}/data/Master data/parameters").json()
    assert body["name"] == "Master data"
    (growth,) = body["parameters"]
    assert {k: growth[k] for k in ("name", "type", "default", "min", "max")} == {
        "name": "demand_growth",
        "type": "float",
        "default": 1.0,
        "min": 0.1,
        "max": 10.0,
    }


def test_parameters_of_an_unknown_dataset_are_404(client: TestClient) -> None:
    r = client.get(f"{MAIN}/data/nope/parameters")
    assert r.status_code == 404 and "nope" in r.json()["detail"]


def test_create_validates_and_keeps_data_params(client: TestClient) -> None:
    created = client.post(f"{MAIN}/scenarios", json=ABC | {"data_params": {"demand_growth": 2.5}})
    assert created.status_code == 201
    assert created.json()["data_parameters"] == {"demand_growth": 2.5}
    defaulted = client.post(f"{MAIN}/scenarios", json=ABC | {"tag": "d", "data_params": None})
    assert defaulted.json()["data_parameters"] == {"demand_growth": 1.0}
    fetched = client.get(f"{MAIN}/scenarios/{created.json()['id']}").json()
    assert fetched["data_parameters"] == {"demand_growth": 2.5}


def test_bad_data_params_are_400_naming_the_parameter(client: TestClient) -> None:
    for values, name in (({"demand_growth": 50}, "demand_growth"), ({"nope": 1}, "nope")):
        r = client.post(f"{MAIN}/scenarios", json=ABC | {"data_params": values})
        assert r.status_code == 400, r.text
        assert name in r.json()["detail"]
    assert client.get(f"{MAIN}/scenarios").json() == []


def run(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    created = client.post(f"{MAIN}/scenarios", json=body).json()
    path = f"{MAIN}/scenarios/{created['id']}"
    client.post(f"{path}/run")
    scenario_status(client.get, path, {"complete", "failed"})
    result: dict[str, Any] = client.get(path).json()
    return result


def test_the_run_sees_the_data_parameters(client: TestClient) -> None:
    """The example scales demand by `demand_growth`, so the travel per day grows."""
    base = run(client, ABC)
    doubled = run(client, ABC | {"tag": "x2", "data_params": {"demand_growth": 2.0}})
    assert base["status"] == doubled["status"] == "complete"
    travel = base["kpis"]["travel_distance"]["value"]
    assert doubled["kpis"]["travel_distance"]["value"] == pytest.approx(travel * 2)


def test_a_dataset_without_declared_parameters() -> None:
    with TestClient(ApiLauncher.build(api_config())) as client:
        body = client.get(f"{MAIN}/data/Master data/parameters").json()
        assert body == {"name": "Master data", "parameters": []}
        base = {"tag": "t", "dataset_key": "Master data", "algo_name": "Instant"}
        assert client.post(f"{MAIN}/scenarios", json=base | {"data_params": {}}).status_code == 201
        r = client.post(f"{MAIN}/scenarios", json=base | {"tag": "u", "data_params": {"k": 1}})
        assert r.status_code == 400 and "'k'" in r.json()["detail"]


def test_data_parameters_survive_a_restart(tmp_path: Path) -> None:
    config = build_example_config(
        has_persistent_state=True, data_path=tmp_path / "state", allowed_hosts=TEST_HOSTS
    )
    with TestClient(ApiLauncher.build(config)) as client:
        created = client.post(
            f"{MAIN}/scenarios", json=ABC | {"data_params": {"demand_growth": 3.0}}
        )
        scenario_id = created.json()["id"]
    with TestClient(ApiLauncher.build(config)) as client:
        again = client.get(f"{MAIN}/scenarios/{scenario_id}").json()
        assert again["data_parameters"] == {"demand_growth": 3.0}
