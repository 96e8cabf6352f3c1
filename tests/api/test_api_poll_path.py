"""The status poll's path through the app: its route is the app's own and comes
first (`ApiLauncher.build`'s `add_at_top`), its answer unchanged."""

from __future__ import annotations

from pathlib import Path

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.polling import wait_for

from .conftest import PREFIX, ClientFactory

POLL = f"{PREFIX}/sessions/{{session_id}}/scenarios/{{scenario_id}}/status"


def test_the_poll_route_is_the_apps_first_route(client: TestClient) -> None:
    """Not a route of an included router: those are matched after every router
    included before them, and twice (FastAPI 0.165's `_IncludedRouter`)."""
    routes = client.app.router.routes  # type: ignore[attr-defined]
    first = routes[0]  # before FastAPI's own /openapi.json too
    assert isinstance(first, APIRoute)
    assert first.path == POLL
    assert first.methods == {"GET"}
    assert first.tags == ["scenarios"]
    documented = client.get("/openapi.json").json()["paths"][POLL]["get"]
    assert documented["operationId"] == "scenarios-scenario_status"
    assert documented["summary"] == "Poll a scenario's status"
    assert {"200", "404", "422"} <= set(documented["responses"])


def test_the_poll_answers_as_before(client: TestClient) -> None:
    created = client.post(
        f"{PREFIX}/sessions/main/scenarios",
        json={"tag": "t", "dataset_key": "Master data", "algo_name": "Instant"},
    ).json()
    answer = client.get(f"{PREFIX}/sessions/main/scenarios/{created['id']}/status")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    expected = b'{"id":"%s","tag":"t","status":"created","progress":0.0}' % created["id"].encode()
    assert answer.content == expected
    missing = client.get(f"{PREFIX}/sessions/main/scenarios/nope/status")
    assert missing.status_code == 404
    assert "detail" in missing.json()


def test_a_request_without_a_body_looks_no_body_limit_up() -> None:
    """`BodySizeLimit` matches the path against the upload routes only for a request
    that declares a body; one that does is still refused over its limit."""
    import asyncio

    from starlette.types import Message, Receive, Scope, Send

    from algomancy_api.middleware.bodysize import BodySizeLimit

    looked_up: list[str] = []
    sent: list[Message] = []

    class Counting(BodySizeLimit):
        def limit_for(self, path: str) -> tuple[int, str]:
            looked_up.append(path)
            return super().limit_for(path)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    limit = Counting(app, max_bytes=10, max_json_bytes=5, prefix=PREFIX)

    def scope(headers: list[tuple[bytes, bytes]]) -> Scope:
        return {"type": "http", "method": "GET", "path": f"{PREFIX}/x", "headers": headers}

    asyncio.run(limit(scope([(b"host", b"h")]), receive, send))
    assert looked_up == [] and sent[0]["status"] == 200
    asyncio.run(limit(scope([(b"content-length", b"6")]), receive, send))
    assert looked_up == [f"{PREFIX}/x"] and sent[-2]["status"] == 413


def test_fastapis_own_telemetry_is_off_unless_tracing() -> None:
    """FastAPI's native OpenTelemetry looks for configured providers on every request;
    without `tracing` it is off (no cost), with it FastAPI keeps its defaults."""
    from algomancy_api import ApiLauncher
    from algomancy_api.launcher import native_telemetry
    from tests.api.conftest import api_config

    app = ApiLauncher.build(api_config())
    try:
        telemetry = app._telemetry
        assert not (telemetry["tracing"] or telemetry["metrics"] or telemetry["logs"])
    finally:
        app.state.sessions.close()
    assert native_telemetry(api_config(tracing=True)) is None


def test_request_ids_are_32_hex_digits_and_differ() -> None:
    from algomancy_api.middleware.requestids import new_request_id

    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_request_ids_name_their_process() -> None:
    """An id is the process's 16 random hex digits and a serial number (no system
    call a request, issue 22); a forked child draws digits of its own."""
    from algomancy_api.middleware import requestids

    first, second = requestids.new_request_id(), requestids.new_request_id()
    assert first[:16] == second[:16] and int(second[16:], 16) == int(first[16:], 16) + 1
    requestids._new_process()  # as `os.register_at_fork` calls it in a child
    child = requestids.new_request_id()
    assert child[:16] != first[:16] and len(child) == 32


def test_the_poll_asks_for_its_caller_by_dependency_injection(client: TestClient) -> None:
    """The poll's caller is `CallerDep` as on every route (not read around FastAPI's
    dependency solving): an override of `current_caller` decides whose scenario it
    finds."""
    from algomancy_api.deps import Caller, current_caller

    created = client.post(
        f"{PREFIX}/sessions/main/scenarios",
        json={"tag": "mine", "dataset_key": "Master data", "algo_name": "Instant"},
    ).json()
    url = f"{PREFIX}/sessions/main/scenarios/{created['id']}/status"
    assert client.get(url).status_code == 200
    app = client.app
    app.dependency_overrides[current_caller] = lambda: Caller("someone-else", False)  # type: ignore[attr-defined]
    try:
        assert client.get(url).status_code == 404
    finally:
        app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_polls_on_sqlite_follow_the_scenario(make_client: ClientFactory, tmp_path: Path) -> None:
    """On SQLite a poll of an unchanged file answers what the last poll read
    (`KeptProgress`, issue 22): the run's writes (the executor's, on connections of
    its own) and a rename are seen by the next poll all the same."""
    client = make_client(has_persistent_state=True, data_path=str(tmp_path))
    created = client.post(
        f"{PREFIX}/sessions/main/scenarios",
        json={"tag": "t", "dataset_key": "Master data", "algo_name": "Instant"},
    ).json()
    url = f"{PREFIX}/sessions/main/scenarios/{created['id']}/status"
    assert client.get(url).json()["status"] == "created"
    assert client.get(url).json()["status"] == "created"
    assert client.post(f"{PREFIX}/sessions/main/scenarios/{created['id']}/run").status_code < 300
    wait_for(lambda: client.get(url).json()["status"], lambda s: s == "complete")
    assert client.get(url).json()["progress"] == 1.0
    renamed = client.patch(f"{PREFIX}/sessions/main", json={"display_name": "other"})
    assert renamed.status_code == 200
    assert client.get(url).status_code == 404  # "main" is no longer its session's name
    assert client.get(url.replace("/main/", "/other/")).json()["status"] == "complete"
