"""`response_model` is honoured: the answer goes through the model it documents."""

from __future__ import annotations

import importlib
import pkgutil
import typing
from typing import Any

import pytest
from fastapi import Response
from fastapi.routing import APIRoute, APIRouter
from fastapi.testclient import TestClient

import algomancy_api.routers
from algomancy_api.models import ScenarioStatusOut

from .conftest import PREFIX, ClientFactory

#: Routes that still answer pre-encoded bytes their response model only documents:
#: the tabular frames (a column encoder writes them, `algomancy_api.frames.build`)
#: and the scenario list (orjson from the views: validating 1,000 scenarios through
#: pydantic was most of the answer).
PRE_ENCODED = {
    ("GET", "/sessions/{session_id}/data/{data_key}/tables/{table}/frame"),
    ("POST", "/sessions/{session_id}/acceptance"),
    ("GET", "/sessions/{session_id}/experiments/{experiment_id}/frame"),
    ("GET", "/sessions/{session_id}/kpis/frame"),
    ("GET", "/sessions/{session_id}/scenarios/{scenario_id}/result/tables/{table}/frame"),
    ("GET", "/sessions/{session_id}/scenarios/{scenario_id}/reports"),
    ("GET", "/sessions/{session_id}/studies/{study_id}/trials"),
    ("GET", "/sessions/{session_id}/studies/{study_id}/pareto"),
    ("GET", "/sessions/{session_id}/scenarios"),
}


def routes() -> list[APIRoute]:
    found = []
    for info in pkgutil.iter_modules(algomancy_api.routers.__path__):
        module = importlib.import_module(f"algomancy_api.routers.{info.name}")
        for value in vars(module).values():
            if isinstance(value, APIRouter):
                found += [r for r in value.routes if isinstance(r, APIRoute)]
    return found


def pre_encoded(route: APIRoute) -> bool:
    returned = typing.get_type_hints(route.endpoint).get("return")
    return isinstance(returned, type) and issubclass(returned, Response)


def test_only_the_frames_and_the_scenario_list_answer_pre_encoded_bytes() -> None:
    modelled = [r for r in routes() if r.response_model is not None]
    assert len(modelled) > 40
    bypassing = {(m, r.path) for r in modelled if pre_encoded(r) for m in r.methods}
    assert bypassing == PRE_ENCODED


def test_the_poll_route_returns_what_its_model_validates() -> None:
    (poll,) = [r for r in routes() if r.endpoint.__name__ == "scenario_status"]
    assert typing.get_type_hints(poll.endpoint)["return"] == dict[str, Any]
    assert poll.response_model is ScenarioStatusOut


def test_the_whole_session_list_equals_its_pages(client: TestClient) -> None:
    """The whole list of a user is encoded by orjson, a page through the response
    model: one shape all the same."""
    for i in range(3):
        client.post(f"{PREFIX}/sessions", json={"display_name": f"s{i}"}).raise_for_status()
    whole = client.get(f"{PREFIX}/sessions")
    paged = client.get(f"{PREFIX}/sessions", params={"limit": 100})
    assert whole.headers["content-type"] == paged.headers["content-type"] == "application/json"
    assert whole.json() == paged.json()
    assert list(whole.json()) == list(paged.json()) == ["sessions", "default"]
    created = client.post(f"{PREFIX}/sessions", json={"display_name": "s3"})
    small = client.post(f"{PREFIX}/sessions", params={"limit": 100}, json={"display_name": "s4"})
    assert created.status_code == small.status_code == 201
    assert list(created.json()) == list(small.json()) == ["sessions", "default", "session"]
    assert created.json()["sessions"] == small.json()["sessions"][:-1]


@pytest.mark.parametrize("admin", [False, True])
def test_owner_is_in_an_administrators_listing_only(
    make_client: ClientFactory, admin: bool
) -> None:
    """The model declares `owner` on every item; it is answered to administrators."""
    client: TestClient = make_client(
        api_keys={"k-alice": "alice", "k-root": "root"}, admin_users=["root"]
    )
    key = {"X-API-Key": "k-root" if admin else "k-alice"}
    client.post(f"{PREFIX}/sessions", json={"display_name": "mine"}, headers=key)
    for answer in (
        client.get(f"{PREFIX}/sessions", headers=key),
        client.post(f"{PREFIX}/sessions", json={"display_name": "more"}, headers=key),
        client.get(f"{PREFIX}/sessions", params={"limit": 1}, headers=key),
    ):
        assert answer.status_code in (200, 201)
        keys = {"id", "display_name", "owner"} if admin else {"id", "display_name"}
        assert all(set(item) == keys for item in answer.json()["sessions"])
    if admin:
        owners = {
            s["owner"] for s in client.get(f"{PREFIX}/sessions", headers=key).json()["sessions"]
        }
        # The server's own `main` (made at start, no owner) says so: `owner` null.
        assert owners == {"root", None}
