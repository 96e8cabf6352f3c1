"""Error mapping and the public dependency, probed with routes added to the app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient

from algomancy_api import AlgomancyClient, ApiLauncher
from algomancy_api.dependencies import get_scenario_manager
from algomancy_api.example import build_example_config
from algomancy_core import ScenarioManager

from .conftest import MAIN, TEST_HOSTS


@pytest.fixture
def probed() -> Iterator[TestClient]:
    app = ApiLauncher.build(
        build_example_config(has_persistent_state=False, allowed_hosts=TEST_HOSTS)
    )

    @app.get("/probe/value")
    def value() -> None:
        raise ValueError("bad input")

    @app.get("/probe/key")
    def key() -> None:
        raise KeyError("missing thing")

    @app.get("/probe/assert")
    def failed_assertion() -> None:
        raise AssertionError("precondition broken")

    @app.get("/probe/boom")
    def boom() -> None:
        raise RuntimeError("unexpected")

    @app.get("/probe/session/{session_id}")
    def session(sm: ScenarioManager = Depends(get_scenario_manager)) -> dict[str, Any]:
        return {"ok": True, "data_keys": sm.get_data_keys()}

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_value_error_is_400(probed: TestClient) -> None:
    r = probed.get("/probe/value")
    assert (r.status_code, r.json()) == (400, {"detail": "bad input"})


def test_a_stray_key_error_is_a_plain_500_not_a_404(probed: TestClient) -> None:
    r = probed.get("/probe/key")
    assert (r.status_code, r.json()) == (500, {"detail": "Internal server error"})


def test_assertion_error_is_409(probed: TestClient) -> None:
    r = probed.get("/probe/assert")
    assert r.status_code == 409 and "precondition broken" in r.json()["detail"]


def test_unexpected_error_is_500(probed: TestClient) -> None:
    r = probed.get("/probe/boom")
    assert (r.status_code, r.json()) == (500, {"detail": "Internal server error"})


def test_get_scenario_manager_resolves_or_404s(probed: TestClient) -> None:
    assert probed.get("/probe/session/main").json() == {"ok": True, "data_keys": ["Master data"]}
    sid = probed.get("/api/v1/sessions").json()["default"]
    assert probed.get(f"/probe/session/{sid}").json()["ok"] is True
    missing = probed.get("/probe/session/nobody")
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]


def test_the_python_client_resets_and_sends_data_params(client: TestClient) -> None:
    api = AlgomancyClient(http=client)
    scenario = api.create_scenario(
        "c", "Master data", "ABC slotting", data_params={"demand_growth": 2.0}
    )
    assert scenario.data_parameters == {"demand_growth": 2.0}
    assert api.reset(scenario.id).status == "created"
    assert client.get(f"{MAIN}/scenarios/{scenario.id}").json()["tag"] == "c"
