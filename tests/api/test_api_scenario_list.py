"""`GET …/scenarios`: paging (`limit`/`offset`), and the list's items are what the
single-scenario route answers (the list is serialised without pydantic)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter

from algomancy_api.models import ScenarioOut, ScenarioSummary
from tests.polling import scenario_status

from .conftest import PREFIX

M = f"{PREFIX}/sessions/main"


def create(client: TestClient, tag: str, algo: str = "Instant", **params: Any) -> str:
    r = client.post(
        f"{M}/scenarios",
        json={"tag": tag, "dataset_key": "Master data", "algo_name": algo, "algo_params": params},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def tags(client: TestClient, **params: Any) -> list[str]:
    r = client.get(f"{M}/scenarios", params=params)
    assert r.status_code == 200, r.text
    return [item["tag"] for item in r.json()]


def typed(text: str) -> Any:
    """The JSON `text` with its floats told apart from its integers (3.0 from 3)."""
    return json.loads(text, parse_float=lambda s: ("float", float(s)))


@pytest.mark.parametrize("view", ["full", "summary"])
def test_limit_and_offset_page_the_list_oldest_first(client: TestClient, view: str) -> None:
    for i in range(5):
        create(client, f"s{i}")
    assert tags(client, view=view) == ["s0", "s1", "s2", "s3", "s4"]
    assert tags(client, view=view, limit=2) == ["s0", "s1"]
    assert tags(client, view=view, limit=2, offset=1) == ["s1", "s2"]
    assert tags(client, view=view, offset=3) == ["s3", "s4"]
    assert tags(client, view=view, limit=10, offset=4) == ["s4"]
    assert tags(client, view=view, offset=5) == []


def test_paging_applies_after_the_fingerprint_filter(client: TestClient) -> None:
    ids = [create(client, f"s{i}", count=1 if i % 2 else 2) for i in range(6)]
    for scenario_id in ids:
        client.post(f"{M}/scenarios/{scenario_id}/run")
    for scenario_id in ids:
        scenario_status(client.get, f"{M}/scenarios/{scenario_id}", {"complete"})
    fingerprint = client.get(f"{M}/scenarios/{ids[1]}").json()["fingerprint"]
    assert tags(client, fingerprint=fingerprint) == ["s1", "s3", "s5"]
    assert tags(client, fingerprint=fingerprint, limit=1, offset=1) == ["s3"]
    assert tags(client, fingerprint=fingerprint, view="summary", offset=2) == ["s5"]


@pytest.mark.parametrize(
    ("params", "named"),
    [({"limit": 0}, "limit"), ({"offset": -1}, "offset"), ({"limit": "many"}, "limit")],
)
def test_bad_paging_is_422_naming_the_parameter(
    client: TestClient, params: dict[str, Any], named: str
) -> None:
    r = client.get(f"{M}/scenarios", params=params)
    assert r.status_code == 422
    assert named in r.text


def test_listed_scenarios_are_what_the_scenario_route_answers(client: TestClient) -> None:
    """Byte-level types included: a float stays a float (the single route's answer
    goes through its response model, the list's does not)."""
    done = create(client, "done", count=4)
    client.post(f"{M}/scenarios/{done}/run")
    scenario_status(client.get, f"{M}/scenarios/{done}", {"complete"})
    failed = create(client, "failed", algo="Broken")
    client.post(f"{M}/scenarios/{failed}/run")
    scenario_status(client.get, f"{M}/scenarios/{failed}", {"failed"})
    create(client, "waiting")
    assert client.put(f"{M}/baseline", json={"scenario_id": done}).status_code == 200
    listed = typed(client.get(f"{M}/scenarios").text)
    assert len(listed) == 3
    for item in listed:
        assert item == typed(client.get(f"{M}/scenarios/{item['id']}").text)
    assert [item["baseline"] for item in listed] == [True, False, False]


@pytest.mark.parametrize(("view", "model"), [("full", ScenarioOut), ("summary", ScenarioSummary)])
def test_the_list_is_what_its_response_model_writes(
    client: TestClient, view: str, model: type[BaseModel]
) -> None:
    done = create(client, "done", count=4)
    client.post(f"{M}/scenarios/{done}/run")
    scenario_status(client.get, f"{M}/scenarios/{done}", {"complete"})
    create(client, "waiting")
    text = client.get(f"{M}/scenarios", params={"view": view}).text
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]
    written = adapter.dump_json(adapter.validate_json(text)).decode()
    assert typed(text) == typed(written)


def test_the_list_solves_only_the_caller_and_still_finds_its_session(client: TestClient) -> None:
    """The session is read in the route (`deps.owner_in_session`, `deps.manager_for`)
    from the one caller dependency, not by solving `ManagerDep`'s four (a fifth of a
    kept listing's server time), and a session is found by id or display name as
    before, an unknown one 404."""
    from algomancy_api.deps import current_caller
    from algomancy_api.routers.scenarios import list_scenarios, lists

    (route,) = [r for r in lists.routes if getattr(r, "endpoint", None) is list_scenarios]
    assert isinstance(route, APIRoute)
    assert [d.call for d in route.dependant.dependencies] == [current_caller]
    create(client, "mine")
    session_id = client.get(f"{PREFIX}/sessions").json()["sessions"][0]["id"]
    for name in (session_id, "main"):
        r = client.get(f"{PREFIX}/sessions/{name}/scenarios", params={"view": "summary"})
        assert [item["tag"] for item in r.json()] == ["mine"]
    missing = client.get(f"{PREFIX}/sessions/nowhere/scenarios")
    assert missing.status_code == 404
    assert "nowhere" in missing.json()["detail"]


def test_the_list_is_matched_right_after_the_status_poll(client: TestClient) -> None:
    """The list route is on the app itself, second only to the poll (`add_at_top`):
    no included router's routes are tried before it. It is `KeptListRoute`."""
    from algomancy_api.listroute import KeptListRoute
    from algomancy_api.routers import scenarios

    first = client.app.router.routes[:2]  # type: ignore[attr-defined]
    endpoints = [getattr(r, "endpoint", None) for r in first]
    assert endpoints == [scenarios.scenario_status, scenarios.list_scenarios]
    assert isinstance(first[1], KeptListRoute)
    assert first[1].path == f"{PREFIX}/sessions/{{session_id}}/scenarios"
