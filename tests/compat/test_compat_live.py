"""A reference client's flow against a real `algomancy-api serve --example` process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.polling import scenario_status
from tests.server import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    folder = tmp_path_factory.mktemp("compat-live")
    with (
        ServerProcess(["--example", "--in-memory"], folder) as server,
        httpx.Client(base_url=server.base, timeout=30) as client,
    ):
        yield client


def test_health_carries_the_title(api: httpx.Client) -> None:
    body = api.get("/health").json()
    assert body["status"] == "ok" and body["title"] == "Algomancy warehouse example"


def test_the_reference_client_flow(api: httpx.Client) -> None:
    main = "/api/v1/sessions/main"
    sessions = api.get("/api/v1/sessions").json()
    assert {"sessions", "default"} <= set(sessions)
    assert "ABC slotting" in api.get(f"{main}/algorithms").json()["algorithms"]
    assert "throughput" in api.get(f"{main}/kpis").json()["kpis"]
    assert api.get(f"{main}/data").json() == {"keys": ["Master data"]}
    described = api.get(f"{main}/data/Master data/parameters").json()
    assert [p["name"] for p in described["parameters"]] == ["demand_growth"]

    body = {
        "tag": "live",
        "dataset_key": "Master data",
        "algo_name": "ABC slotting",
        "algo_params": {"policy": "class_based"},
        "data_params": {"demand_growth": 1.5},
    }
    created = api.post(f"{main}/scenarios", json=body)
    assert created.status_code == 201
    scenario = created.json()
    assert scenario["data_parameters"] == {"demand_growth": 1.5}
    assert all(k["value"] is None for k in scenario["kpis"].values())
    path = f"{main}/scenarios/{scenario['id']}"
    assert api.post(f"{path}/run").status_code == 202
    assert scenario_status(api.get, path, {"complete", "failed"})["status"] == "complete"

    (summary,) = api.get(f"{main}/scenarios", params={"view": "summary"}).json()
    assert summary["result_available"] is True
    assert summary["algorithm"]["parameters"]["policy"] == "class_based"
    assert summary["data_parameters"] == {"demand_growth": 1.5}

    reset = api.post(f"{path}/reset")
    assert reset.status_code == 200
    assert (reset.json()["status"], reset.json()["result"]) == ("created", None)
    assert api.post(f"{path}/run").status_code == 202
    assert scenario_status(api.get, path, {"complete", "failed"})["status"] == "complete"


def test_openapi_has_the_reference_routes(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    base = "/api/v1/sessions/{session_id}"
    for path in (
        f"{base}/scenarios/{{scenario_id}}/reset",
        f"{base}/data/{{data_key}}/parameters",
        f"{base}/algorithms/{{algorithm_name}}/parameters",
    ):
        assert path in paths, path


def test_launcher_run_takes_host_and_port_positionally(tmp_path: Path) -> None:
    """The reference's own smoke test starts the server this way."""
    script = (
        "from algomancy_api import ApiLauncher\n"
        "from algomancy_api.example import build_example_config\n"
        "app = ApiLauncher.build(build_example_config(has_persistent_state=False))\n"
        "ApiLauncher.run(app, '127.0.0.1', 0)\n"
    )
    command = [sys.executable, "-c", script]
    with (
        ServerProcess([], tmp_path, command=command) as server,
        httpx.Client(base_url=server.base, timeout=30) as client,
    ):
        assert client.get("/health").json()["title"] == "Algomancy warehouse example"
        assert client.get("/api/v1/sessions/main/data").json() == {"keys": ["Master data"]}
