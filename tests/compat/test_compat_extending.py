"""The reference's "Extending the API" page, followed step by step against our app."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, status
from fastapi.testclient import TestClient
from pydantic import BaseModel

from algomancy_api import ApiConfiguration, ApiLauncher
from algomancy_api.dependencies import get_scenario_manager, get_session_manager
from algomancy_api.schemas import CreateScenarioRequest, DataKeysResponse, SessionsListResponse
from algomancy_core import ScenarioManager, SessionManager
from algomancy_example import example_settings

from .conftest import PREFIX, TEST_HOSTS

# -- my_project/api/routers/results.py -----------------------------------------
results = APIRouter(prefix="/sessions/{session_id}", tags=["results"])


class ExportResponse(BaseModel):
    scenario_id: str
    tag: str
    rows: list[dict[str, Any]]


@results.get("/scenarios/{scenario_id}/export", response_model=ExportResponse)
def export_results(
    scenario_id: str, sm: ScenarioManager = Depends(get_scenario_manager)
) -> dict[str, Any]:
    scenario = sm.get_by_id(scenario_id)
    if scenario is None:
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND, detail=f"Scenario '{scenario_id}' not found"
        )
    return {"scenario_id": scenario_id, "tag": scenario.tag, "rows": []}


@results.get("/summary")
def session_summary(sm: SessionManager = Depends(get_session_manager)) -> dict[str, int]:
    return {"session_count": len(sm.list_sessions())}


# -- my_project/api/routers/meta.py --------------------------------------------
meta = APIRouter(tags=["meta"])


@meta.get("/version")
def version() -> dict[str, str]:
    return {"app": "my-project", "version": "1.0.0"}


def build() -> tuple[ApiConfiguration, FastAPI]:
    cfg = ApiConfiguration(**example_settings(), host="127.0.0.1", port=8051, prefix="/api/v1")
    cfg = cfg.replace(allowed_hosts=TEST_HOSTS)
    app = ApiLauncher.build(cfg)
    app.include_router(results, prefix=cfg.prefix)
    app.include_router(meta)
    return cfg, app


def test_custom_route_uses_get_scenario_manager() -> None:
    cfg, app = build()
    # Both are set by build(), before control returns (the page's note).
    assert app.state.config is cfg
    assert isinstance(app.state.session_manager, SessionManager)
    with TestClient(app) as client:
        body = {"tag": "t", "dataset_key": "Master data", "algo_name": "ABC slotting"}
        created = client.post(f"{PREFIX}/sessions/main/scenarios", json=body).json()
        r = client.get(f"{PREFIX}/sessions/main/scenarios/{created['id']}/export")
        assert r.status_code == 200
        assert r.json() == {"scenario_id": created["id"], "tag": "t", "rows": []}
        missing = client.get(f"{PREFIX}/sessions/main/scenarios/nope/export")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "Scenario 'nope' not found"}
        unknown_session = client.get(f"{PREFIX}/sessions/nobody/scenarios/x/export")
        assert unknown_session.status_code == 404
        assert client.get(f"{PREFIX}/sessions/main/summary").json() == {"session_count": 1}
        assert client.get("/version").json() == {"app": "my-project", "version": "1.0.0"}
        paths = client.get("/openapi.json").json()["paths"]
        assert f"{PREFIX}/sessions/{{session_id}}/scenarios/{{scenario_id}}/export" in paths


def test_schemas_module_has_the_reference_names() -> None:
    assert set(SessionsListResponse.model_fields) == {"sessions", "default"}
    assert set(DataKeysResponse.model_fields) == {"keys"}
    assert {"tag", "dataset_key", "algo_name", "algo_params"} <= set(
        CreateScenarioRequest.model_fields
    )
