"""Another user's session is 404 on every route; `admin_users` see and manage all.

The walk takes its routes from the OpenAPI document, so a new route is covered
without touching this file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from tests.core.conftest import Instant
from tests.core.test_core_scenario_manager import Tabled
from tests.polling import scenario_status

from .conftest import PREFIX, api_config

ALICE = {"X-API-Key": "k-alice"}
BOB = {"X-API-Key": "k-bob"}
ROOT = {"X-API-Key": "k-root"}
KEYS = {"k-alice": "alice", "k-bob": "bob", "k-root": "root"}


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A server where alice has a session with a dataset and a complete scenario
    that has a result table; the path parameters that address them."""
    app = ApiLauncher.build(
        api_config(algorithms=[Instant, Tabled], api_keys=KEYS, admin_users=["root"])
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        created = client.post(f"{PREFIX}/sessions", json={"display_name": "a1"}, headers=ALICE)
        session_id = created.json()["session"]["id"]
        base = f"{PREFIX}/sessions/{session_id}"
        body = {"tag": "t", "dataset_key": "Master data", "algo_name": "Tabled"}
        scenario_id = client.post(f"{base}/scenarios", json=body, headers=ALICE).json()["id"]
        client.post(f"{base}/scenarios/{scenario_id}/run", headers=ALICE)
        done = scenario_status(
            lambda url: client.get(url, headers=ALICE),
            f"{base}/scenarios/{scenario_id}",
            {"complete", "failed"},
        )
        assert done["status"] == "complete"
        params = {
            "session_id": session_id,
            "scenario_id": scenario_id,
            "data_key": "Master data",
            "table": "items",
            "algorithm_name": "Tabled",
            # Names nothing in alice's session either: her answer is an item's 404.
            "view_name": "none",
            "experiment_id": "none",
            "study_id": "none",
        }
        yield client, params


def operations() -> list[tuple[str, str]]:
    app = ApiLauncher.build(api_config(api_keys=KEYS))
    return [
        (method, path)
        for path, ops in app.openapi()["paths"].items()
        if "{session_id}" in path
        for method in ops
    ]


def fill(path: str, params: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "table" and "/result/" in path:
            return "lines"  # Tabled's result table
        return params[name]

    return re.sub(r"\{(\w+)\}", value, path)


def send(client: TestClient, method: str, url: str, headers: dict[str, str]) -> Any:
    # A plausible body: ownership must be decided before the body matters.
    body = {"display_name": "x", "new_display_name": "x2", "tag": "t", "algo_name": "Tabled"}
    if method in ("get", "delete"):
        return client.request(method.upper(), url, headers=headers)
    return client.request(method.upper(), url, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path"), operations())
def test_another_users_session_is_404_on_every_route(
    world: tuple[TestClient, dict[str, str]], method: str, path: str
) -> None:
    client, params = world
    url = fill(path, params)
    for who in (BOB, {"X-API-Key": "k-bob", "X-Requested-With": "x"}):
        r = send(client, method, url, who)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
        assert "session" in r.json()["detail"] and "not found" in r.json()["detail"]
    if method == "get" and not path.endswith("/{session_id}/events"):
        # (The session stream never ends: its owner's access is in test_api_session_events.)
        # The control: the owner reaches it (so the 404 above is the ownership's).
        owned = client.get(url, headers=ALICE)
        if owned.status_code == 404:  # an item of hers that does not exist, not her session
            assert "session" not in owned.json()["detail"], (url, owned.text)


def test_the_walk_covers_every_kind_of_route() -> None:
    paths = {path for _, path in operations()}
    for part in ("/status", "/events", "/frame", "/download", "/etl", "/from-json", "/copy"):
        assert any(part in path for path in paths), part


@pytest.fixture
def admin_world() -> Iterator[tuple[TestClient, str]]:
    app = ApiLauncher.build(api_config(api_keys=KEYS, admin_users=["root"]))
    with TestClient(app, raise_server_exceptions=False) as client:
        created = client.post(f"{PREFIX}/sessions", json={"display_name": "a1"}, headers=ALICE)
        yield client, created.json()["session"]["id"]


def test_admin_lists_every_users_sessions(admin_world: tuple[TestClient, str]) -> None:
    client, _ = admin_world
    client.get(f"{PREFIX}/sessions", headers=BOB)  # bob's main
    listed = client.get(f"{PREFIX}/sessions", headers=ROOT).json()
    owners = {(s["display_name"], s["owner"]) for s in listed["sessions"]}
    # `main` of no one is the one the server makes at start-up.
    assert owners == {("main", None), ("a1", "alice"), ("main", "bob"), ("main", "root")}
    root_main = next(s for s in listed["sessions"] if s["owner"] == "root")
    assert listed["default"] == root_main["id"]
    page = client.get(f"{PREFIX}/sessions", params={"limit": 2, "offset": 1}, headers=ROOT)
    assert [s["id"] for s in page.json()["sessions"]] == [s["id"] for s in listed["sessions"][1:3]]
    # A non-admin's listing is unchanged: own sessions, no owner field.
    bobs = client.get(f"{PREFIX}/sessions", headers=BOB).json()["sessions"]
    assert [set(s) for s in bobs] == [{"id", "display_name"}]


def test_admin_manages_another_users_session(admin_world: tuple[TestClient, str]) -> None:
    client, alices = admin_world
    base = f"{PREFIX}/sessions/{alices}"
    assert client.get(f"{base}/data", headers=ROOT).json() == {"keys": ["Master data"]}
    body = {"tag": "by-root", "dataset_key": "Master data", "algo_name": "Instant"}
    created = client.post(f"{base}/scenarios", json=body, headers=ROOT)
    assert created.status_code == 201
    scenario_id = created.json()["id"]
    status = client.get(f"{base}/scenarios/{scenario_id}/status", headers=ROOT)
    assert status.json()["tag"] == "by-root"
    # Alice sees what root did in her session.
    assert client.get(f"{base}/scenarios/{scenario_id}", headers=ALICE).status_code == 200
    renamed = client.patch(base, json={"display_name": "renamed"}, headers=ROOT)
    assert renamed.json() == {"id": alices, "display_name": "renamed"}
    copied = client.post(f"{base}/copy", json={"new_display_name": "copy"}, headers=ROOT)
    assert copied.status_code == 201
    alice_names = [
        s["display_name"]
        for s in client.get(f"{PREFIX}/sessions", headers=ALICE).json()["sessions"]
    ]
    assert alice_names == ["renamed", "copy"]
    assert client.delete(base, headers=ROOT).status_code == 200
    assert client.get(base + "/data", headers=ALICE).status_code == 404
    # By display name, an admin addresses their own sessions (names are per user).
    assert client.get(f"{PREFIX}/sessions/copy/data", headers=ROOT).status_code == 404


def test_non_admin_cannot_reach_admin_listing_or_sessions(
    admin_world: tuple[TestClient, str],
) -> None:
    client, alices = admin_world
    assert client.get(f"{PREFIX}/sessions/{alices}/data", headers=BOB).status_code == 404
    names = [
        s["display_name"] for s in client.get(f"{PREFIX}/sessions", headers=BOB).json()["sessions"]
    ]
    assert names == ["main"]
