"""Session routes and their error rows."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from .conftest import PREFIX, ClientFactory

S = f"{PREFIX}/sessions"


def test_list_has_main_and_default(client: TestClient) -> None:
    body = client.get(S).json()
    assert [s["display_name"] for s in body["sessions"]] == ["main"]
    assert body["default"] == body["sessions"][0]["id"]
    uuid.UUID(body["default"])


def test_create_answers_201_with_list_and_session(client: TestClient) -> None:
    r = client.post(S, json={"display_name": "what-if"})
    assert r.status_code == 201
    body = r.json()
    assert body["session"]["display_name"] == "what-if"
    assert [s["display_name"] for s in body["sessions"]] == ["main", "what-if"]
    assert body["default"] == body["sessions"][0]["id"]
    # The new session answers by id and by name.
    sid = body["session"]["id"]
    assert client.get(f"{S}/{sid}/data").json() == {"keys": ["Master data"]}
    assert client.get(f"{S}/what-if/data").json() == {"keys": ["Master data"]}


def test_create_errors(client: TestClient) -> None:
    client.post(S, json={"display_name": "taken"})
    r = client.post(S, json={"display_name": "taken"})
    assert r.status_code == 409 and "taken" in r.json()["detail"]
    for body in ({}, {"display_name": ""}, {"display_name": "   "}, {"display_name": 3}):
        r = client.post(S, json=body)
        assert r.status_code == 422, body
        assert "detail" in r.json()


def test_copy(client: TestClient) -> None:
    sid = client.get(S).json()["default"]
    created = client.post(
        f"{S}/{sid}/scenarios",
        json={"tag": "t", "dataset_key": "Master data", "algo_name": "Instant"},
    ).json()
    r = client.post(f"{S}/main/copy", json={"new_display_name": "copy"})
    assert r.status_code == 201
    body = r.json()
    assert body["session"]["display_name"] == "copy"
    copied = client.get(f"{S}/copy/scenarios").json()
    assert [s["tag"] for s in copied] == ["t"] and copied[0]["id"] != created["id"]
    assert client.post(f"{S}/main/copy", json={"new_display_name": "copy"}).status_code == 409
    assert client.post(f"{S}/nope/copy", json={"new_display_name": "x"}).status_code == 404
    assert client.post(f"{S}/main/copy", json={"new_display_name": " "}).status_code == 422


def test_rename(client: TestClient) -> None:
    sid = client.get(S).json()["default"]
    client.post(S, json={"display_name": "other"})
    r = client.patch(f"{S}/{sid}", json={"display_name": "renamed"})
    assert r.status_code == 200 and r.json() == {"id": sid, "display_name": "renamed"}
    assert client.patch(f"{S}/{sid}", json={"display_name": "other"}).status_code == 409
    assert client.patch(f"{S}/nope", json={"display_name": "x"}).status_code == 404
    assert client.patch(f"{S}/{sid}", json={"display_name": ""}).status_code == 422


def test_delete_and_last_session(client: TestClient) -> None:
    client.post(S, json={"display_name": "extra"})
    r = client.delete(f"{S}/extra")
    assert r.status_code == 200
    assert [s["display_name"] for s in r.json()["sessions"]] == ["main"]
    old = r.json()["default"]
    r = client.delete(f"{S}/main")
    assert r.status_code == 200
    body = r.json()
    assert [s["display_name"] for s in body["sessions"]] == ["main"]
    assert body["default"] != old
    assert client.delete(f"{S}/nope").status_code == 404


def test_unknown_session_is_404_everywhere(client: TestClient) -> None:
    missing = str(uuid.uuid4())
    for method, path in [
        ("GET", "algorithms"),
        ("GET", "kpis"),
        ("GET", "scenarios"),
        ("GET", "data"),
        ("GET", "processing"),
    ]:
        r = client.request(method, f"{S}/{missing}/{path}")
        assert r.status_code == 404, path
        assert missing in r.json()["detail"]


def test_session_list_pages_on_request(client: TestClient) -> None:
    for i in range(5):
        client.post("/api/v1/sessions", json={"display_name": f"s{i}"}).raise_for_status()
    everything = client.get("/api/v1/sessions").json()
    assert set(everything) == {"sessions", "default"}  # the default answer's shape
    names = [s["display_name"] for s in everything["sessions"]]
    assert names == ["main", "s0", "s1", "s2", "s3", "s4"]
    page = client.get("/api/v1/sessions", params={"limit": 2, "offset": 3}).json()
    assert [s["display_name"] for s in page["sessions"]] == ["s2", "s3"]
    assert page["default"] == everything["default"]
    tail = client.get("/api/v1/sessions", params={"offset": 5}).json()
    assert [s["display_name"] for s in tail["sessions"]] == ["s4"]
    bad = client.get("/api/v1/sessions", params={"limit": 0})
    assert bad.status_code in (400, 422) and "limit" in bad.text


def test_create_pages_the_list_it_answers_with(client: TestClient) -> None:
    for i in range(3):
        client.post("/api/v1/sessions", json={"display_name": f"s{i}"}).raise_for_status()
    full = client.post("/api/v1/sessions", json={"display_name": "s3"})
    assert full.status_code == 201
    assert [s["display_name"] for s in full.json()["sessions"]] == ["main", "s0", "s1", "s2", "s3"]
    small = client.post("/api/v1/sessions", params={"limit": 1}, json={"display_name": "s4"})
    assert small.status_code == 201
    body = small.json()
    assert list(body) == ["sessions", "default", "session"]  # the same keys, in order
    assert [s["display_name"] for s in body["sessions"]] == ["main"]
    assert body["session"]["display_name"] == "s4"
    assert body["default"] == full.json()["default"]
    listed = client.get("/api/v1/sessions").json()["sessions"]
    assert [s["display_name"] for s in listed][-1] == "s4"


def test_the_session_list_is_shaped_here_not_read_from_the_store(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    """The listing's shape is the HTTP layer's (the response model): text an earlier
    version left in the SQL store's `sessions.list_entry` column is never answered."""
    client = make_client(has_persistent_state=True, data_path=str(tmp_path))
    client.post(S, json={"display_name": "second"}).raise_for_status()
    store = client.app.state.sessions.runtime.store  # type: ignore[attr-defined]
    with store.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE sessions SET list_entry = '{\"stale\": 1}'"))
    body = client.get(S).json()
    assert [s["display_name"] for s in body["sessions"]] == ["main", "second"]
    assert all(set(item) == {"id", "display_name"} for item in body["sessions"])
    created = client.post(S, json={"display_name": "third"}).json()
    assert [s["display_name"] for s in created["sessions"]] == ["main", "second", "third"]
