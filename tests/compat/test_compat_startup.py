"""The app without its ASGI lifespan, and a `build()` that opens nothing."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import algomancy_api.middleware.startup
import algomancy_core.runtime
from algomancy_api import ApiLauncher
from algomancy_api.example import build_example_config
from tests.polling import scenario_status

from .conftest import MAIN, TEST_HOSTS


def test_build_opens_no_store_and_starts_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    app = ApiLauncher.build(build_example_config(has_persistent_state=True, data_path=state))
    assert not state.exists()
    assert app.state.session_manager.started is False
    app.state.session_manager.close()


@pytest.mark.parametrize("persistent", [False, True], ids=["memory", "sqlite"])
def test_runs_complete_without_the_lifespan(tmp_path: Path, persistent: bool) -> None:
    config = build_example_config(
        has_persistent_state=persistent, data_path=tmp_path / "s", allowed_hosts=TEST_HOSTS
    )
    app = ApiLauncher.build(config)
    client = TestClient(app)  # no `with`: the lifespan never runs
    try:
        body = {"tag": "t", "dataset_key": "Master data", "algo_name": "ABC slotting"}
        created = client.post(f"{MAIN}/scenarios", json=body)
        assert created.status_code == 201
        path = f"{MAIN}/scenarios/{created.json()['id']}"
        assert client.post(f"{path}/run").status_code == 202
        assert scenario_status(client.get, path, {"complete", "failed"})["status"] == "complete"
        assert client.get(path).json()["result"] is not None
    finally:
        app.state.session_manager.close()


def test_a_store_that_cannot_open_answers_503_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    config = build_example_config(
        has_persistent_state=True, data_path=blocker, allowed_hosts=TEST_HOSTS
    )
    app = ApiLauncher.build(config)  # builds: nothing is opened yet
    client = TestClient(app, raise_server_exceptions=False)
    for path in (f"{MAIN}/scenarios", "/health"):
        r = client.get(path)
        assert r.status_code == 503, r.text
        assert r.json()["detail"].startswith("the server could not start")
        assert r.headers["retry-after"] == "5"


def test_a_slow_start_answers_503_instead_of_hanging(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real_build_store = algomancy_core.runtime.build_store

    def slow_build_store(config: Any) -> Any:
        release.wait(30)
        return real_build_store(config)

    monkeypatch.setattr(algomancy_core.runtime, "build_store", slow_build_store)
    monkeypatch.setattr(algomancy_api.middleware.startup, "STARTUP_TIMEOUT_SECONDS", 0.2)
    app = ApiLauncher.build(
        build_example_config(has_persistent_state=False, allowed_hosts=TEST_HOSTS)
    )
    client = TestClient(app, raise_server_exceptions=False)
    try:
        r = client.get(f"{MAIN}/algorithms")
        assert r.status_code == 503
        assert "still starting" in r.json()["detail"]
        release.set()
        monkeypatch.setattr(algomancy_api.middleware.startup, "STARTUP_TIMEOUT_SECONDS", 30.0)
        assert client.get(f"{MAIN}/algorithms").status_code == 200
    finally:
        release.set()
        app.state.session_manager.close()
