"""Scenario routes: the run-and-poll lifecycle, cancel, events, and error rows."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.core.conftest import Gate
from tests.polling import scenario_status

from .conftest import PREFIX

M = f"{PREFIX}/sessions/main"
JSON = "application/json"


def create(client: TestClient, tag: str = "t", algo: str = "Instant", **params: Any) -> Any:
    r = client.post(
        f"{M}/scenarios",
        json={"tag": tag, "dataset_key": "Master data", "algo_name": algo, "algo_params": params},
    )
    assert r.status_code == 201, r.text
    return r.json()


def poll(client: TestClient, scenario_id: str) -> Any:
    """The status once the scenario is finished."""
    return scenario_status(client.get, f"{M}/scenarios/{scenario_id}", {"complete", "failed"})


def test_create_shape(client: TestClient) -> None:
    body = create(client, count=5)
    assert body["tag"] == "t" and body["input_data_id"] == "Master data"
    assert body["status"] == "created" and body["result"] is None and body["error"] is None
    assert body["algorithm"]["name"] == "Instant"
    assert body["algorithm"]["parameters"][0]["value"] == 5
    assert body["kpis"] == {
        "total": {
            "name": "total",
            "value": None,
            "unit": "items",
            "better_when": "higher",
            "threshold": 0.0,
        }
    }
    assert body["progress"] == 0.0 and body["created_at"].endswith("+00:00")
    assert body["started_at"] is None and body["finished_at"] is None


def test_create_defaults_when_params_omitted(client: TestClient) -> None:
    r = client.post(
        f"{M}/scenarios", json={"tag": "d", "dataset_key": "Master data", "algo_name": "Instant"}
    )
    assert r.status_code == 201
    assert r.json()["algorithm"]["parameters"][0]["value"] == 3


def test_create_error_rows(client: TestClient) -> None:
    create(client, "dup")
    base = {"tag": "x", "dataset_key": "Master data", "algo_name": "Instant"}
    cases = [
        (base | {"algo_name": "Nope"}, 404, "Nope"),
        (base | {"dataset_key": "nowhere"}, 404, "nowhere"),
        (base | {"tag": "dup"}, 409, "dup"),
        (base | {"algo_params": {"count": -1}}, 400, "count"),
        (base | {"algo_params": {"count": True}}, 400, "count"),
        (base | {"algo_params": {"colour": 1}}, 400, "colour"),
        ({"dataset_key": "Master data", "algo_name": "Instant"}, 422, None),
        (base | {"tag": 5}, 422, None),
        (base | {"algo_params": [1]}, 422, None),
    ]
    for body, status, word in cases:
        r = client.post(f"{M}/scenarios", json=body)
        assert r.status_code == status, (body, r.text)
        if word:
            assert word in r.json()["detail"]
    assert (
        client.post(
            f"{M}/scenarios", content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 422
    )


def test_a_bad_parameter_is_named_in_the_error(client: TestClient) -> None:
    """A form can show the message at the parameter's field."""
    base = {"tag": "x", "dataset_key": "Master data", "algo_name": "Instant"}
    r = client.post(f"{M}/scenarios", json=base | {"algo_params": {"count": -1}})
    assert r.status_code == 400
    assert r.json()["parameter"] == "count" and r.json()["detail"].startswith("count: ")
    r = client.post(f"{M}/scenarios", json=base | {"algo_params": {"colour": 1}})
    assert r.status_code == 400 and r.json()["parameter"] == "colour"


def test_run_poll_get(client: TestClient) -> None:
    created = create(client, count=2)
    r = client.post(f"{M}/scenarios/{created['id']}/run")
    assert r.status_code == 202 and r.json()["status"] == "queued"
    status = poll(client, created["id"])
    assert status == {"id": created["id"], "tag": "t", "status": "complete", "progress": 1.0}
    full = client.get(f"{M}/scenarios/{created['id']}").json()
    assert full["result"] == {"total": 6, "count": 2}
    assert full["kpis"]["total"]["value"] == 6.0
    assert full["started_at"] is not None and full["finished_at"] is not None
    listed = client.get(f"{M}/scenarios").json()
    assert [s["id"] for s in listed] == [created["id"]]
    # Re-run from complete.
    again = client.post(f"{M}/scenarios/{created['id']}/run").json()
    assert again["status"] == "queued" and again["result"] is None
    assert again["kpis"]["total"]["value"] is None
    assert poll(client, created["id"])["status"] == "complete"


def test_run_conflict_and_processing(client: TestClient, gate: Gate) -> None:
    created = create(client, "g", "Gated")
    assert client.get(f"{M}/processing").json() is None
    client.post(f"{M}/scenarios/{created['id']}/run")
    r = client.post(f"{M}/scenarios/{created['id']}/run")
    assert r.status_code == 409 and "already" in r.json()["detail"]
    assert gate.started.wait(5)
    processing = client.get(f"{M}/processing").json()
    assert processing["id"] == created["id"] and processing["status"] == "processing"
    assert client.get(f"{M}/scenarios/{created['id']}/status").json()["progress"] == 0.5
    gate.release.set()
    assert poll(client, created["id"])["status"] == "complete"


def test_failed_run(client: TestClient) -> None:
    created = create(client, "b", "Broken")
    client.post(f"{M}/scenarios/{created['id']}/run")
    assert poll(client, created["id"])["status"] == "failed"
    full = client.get(f"{M}/scenarios/{created['id']}").json()
    assert full["error"] == "RuntimeError: the solver diverged" and full["result"] is None


def test_cancel_queued_and_running(client: TestClient, gate: Gate) -> None:
    running = create(client, "running", "Gated")
    queued = create(client, "queued")
    client.post(f"{M}/scenarios/{running['id']}/run")
    assert gate.started.wait(5)
    client.post(f"{M}/scenarios/{queued['id']}/run")
    r = client.post(f"{M}/scenarios/{queued['id']}/cancel")
    assert r.status_code == 202
    assert r.json()["status"] == "failed" and r.json()["error"] == "cancelled"
    r = client.post(f"{M}/scenarios/{running['id']}/cancel")
    assert r.status_code == 202
    assert poll(client, running["id"])["status"] == "failed"
    assert client.get(f"{M}/scenarios/{running['id']}").json()["error"] == "cancelled"
    r = client.post(f"{M}/scenarios/{running['id']}/cancel")
    assert r.status_code == 409


def test_delete(client: TestClient, gate: Gate) -> None:
    created = create(client)
    assert client.delete(f"{M}/scenarios/{created['id']}").status_code == 204
    assert client.get(f"{M}/scenarios/{created['id']}").status_code == 404
    running = create(client, "r", "Gated")
    client.post(f"{M}/scenarios/{running['id']}/run")
    assert gate.started.wait(5)
    assert client.delete(f"{M}/scenarios/{running['id']}").status_code == 204
    assert client.get(f"{M}/processing").json() is None


def test_unknown_scenario_is_404(client: TestClient) -> None:
    for method, suffix in [
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/run"),
        ("POST", "/cancel"),
        ("GET", "/status"),
        ("GET", "/events"),
    ]:
        r = client.request(method, f"{M}/scenarios/nope{suffix}")
        assert r.status_code == 404, suffix
        assert "nope" in r.json()["detail"]


def parse_events(text: str) -> list[dict[str, str]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append(fields)
    return events


def test_events_stream_every_status_in_order(client: TestClient) -> None:
    import orjson

    created = create(client)
    client.post(f"{M}/scenarios/{created['id']}/run")
    with client.stream("GET", f"{M}/scenarios/{created['id']}/events") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    events = parse_events(text)
    statuses = [orjson.loads(e["data"])["status"] for e in events]
    deduped = [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s]
    assert deduped == ["queued", "processing", "complete"]
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    # Resuming after the last id sends nothing new and ends (the scenario is done).
    with client.stream(
        "GET", f"{M}/scenarios/{created['id']}/events", headers={"Last-Event-ID": str(ids[-1])}
    ) as r:
        assert parse_events("".join(r.iter_text())) == []


def test_kpi_frame(client: TestClient) -> None:
    created = create(client)
    client.post(f"{M}/scenarios/{created['id']}/run")
    poll(client, created["id"])
    create(client, "idle")
    frame = client.get(f"{M}/kpis/frame").json()
    assert frame["status"] == "ready"
    assert frame["columns"] == ["scenario", "algorithm", "dataset", "status", "total"]
    assert frame["rows"] == [
        {
            "scenario": "t",
            "algorithm": "Instant",
            "dataset": "Master data",
            "status": "complete",
            "total": 6.0,
        },
        {
            "scenario": "idle",
            "algorithm": "Instant",
            "dataset": "Master data",
            "status": "created",
            "total": None,
        },
    ]


def test_the_documented_status_route_is_the_only_one(client: TestClient) -> None:
    """One request path per route: no twin in front of the documented poll."""
    from fastapi.routing import APIRoute

    routes = []
    for route in client.app.router.routes:  # type: ignore[attr-defined]
        # Routers included into the app, and routes added to it directly.
        included = getattr(route, "original_router", None)
        routes += included.routes if included is not None else [route]
    polls = [
        r for r in routes if getattr(r, "path", "").endswith("/scenarios/{scenario_id}/status")
    ]
    assert len(polls) == 1 and isinstance(polls[0], APIRoute)
    assert polls[0].summary == "Poll a scenario's status"
    created = create(client)
    r = client.get(f"{M}/scenarios/{created['id']}/status")
    assert r.json() == {"id": created["id"], "tag": "t", "status": "created", "progress": 0.0}
    other = client.post("/api/v1/sessions", json={"display_name": "other"}).json()["session"]
    # The scenario exists, but not in that session; nor does a session "nope".
    wrong = client.get(f"/api/v1/sessions/{other['id']}/scenarios/{created['id']}/status")
    assert wrong.status_code == 404 and "scenario" in wrong.json()["detail"]
    missing = client.get(f"/api/v1/sessions/nope/scenarios/{created['id']}/status")
    assert missing.status_code == 404 and "session 'nope'" in missing.json()["detail"]
    by_name = client.get(f"/api/v1/sessions/other/scenarios/{created['id']}/status")
    assert by_name.status_code == 404


def test_create_answers_without_reading_the_pinned_baseline(
    client: TestClient, monkeypatch: Any
) -> None:
    """A new scenario cannot be the pinned baseline: its answer says so without a read."""
    store = client.app.state.sessions.runtime.store  # type: ignore[attr-defined]

    def no_read(session_id: str) -> str | None:
        raise AssertionError("the pin was read")

    monkeypatch.setattr(store, "get_baseline", no_read)
    assert create(client, "fresh")["baseline"] is False
