"""`GET /sessions/{id}/events`: the live stream of a session, against a real uvicorn
server in a thread of this process (the memory store unless said otherwise)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fastapi.routing
import pytest

from algomancy_api.routers import session_events
from tests import patient_http as http
from tests.core.conftest import Gate
from tests.polling import wait_for
from tests.streams import Follower

from .conftest import PREFIX
from .test_api_events import ThreadServer, create


@pytest.fixture
def server() -> Iterator[ThreadServer]:
    with ThreadServer() as s:
        yield s


def stream_url(server: ThreadServer, session: str = "main") -> str:
    return f"http://127.0.0.1:{server.port}{PREFIX}/sessions/{session}/events"


def changes(follower: Follower) -> list[dict[str, object]]:
    """The changes a follower received (progress left out: it may be coalesced)."""
    skipped = ("open", "reset", "scenario.progress")
    return [e for e in follower.events if e["event"] not in skipped]


def test_a_scenario_from_creation_to_deletion(server: ThreadServer, gate: Gate) -> None:
    with Follower(stream_url(server)) as follower:
        opened = follower.wait_for_event("open")
        assert follower.status == 200
        scenario_id = create(server, "Gated")
        created = follower.wait_for_event("scenario.created", scenario_id)
        assert created["data"]["scenario"]["status"] == "created"
        http.post(f"{server.base}/scenarios/{scenario_id}/run")
        follower.wait_for_event("scenario.queued", scenario_id)
        follower.wait_for_event("scenario.started", scenario_id)
        progress = follower.wait_for_event("scenario.progress", scenario_id)
        assert progress["data"]["scenario"]["message"] == "waiting at the gate"
        gate.release.set()
        complete = follower.wait_for_event("scenario.complete", scenario_id)
        assert complete["data"]["scenario"]["progress"] == 1.0
        assert http.delete(f"{server.base}/scenarios/{scenario_id}").status_code == 204
        deleted = follower.wait_for_event("scenario.deleted", scenario_id)
    kinds = [k for k in follower.kinds() if k != "scenario.progress"]
    assert kinds == [
        "open",
        "scenario.created",
        "scenario.queued",
        "scenario.started",
        "scenario.complete",
        "scenario.deleted",
    ]
    ids = [int(e["id"]) for e in follower.events]
    assert ids == sorted(set(ids)) and ids[0] == int(opened["id"])
    assert deleted["data"]["session_id"] == created["data"]["session_id"]


def test_a_failed_run_and_datasets(server: ThreadServer) -> None:
    with Follower(stream_url(server)) as follower:
        follower.wait_for_event("open")
        scenario_id = create(server, "Broken")
        http.post(f"{server.base}/scenarios/{scenario_id}/run")
        failed = follower.wait_for_event("scenario.failed", scenario_id)
        assert failed["data"]["scenario"]["error"]
        derived = http.post(f"{server.base}/data/Master data/derive", json={"new_key": "copy"})
        assert derived.status_code == 201, derived.text
        follower.wait_for_event("dataset.added", "copy")
        assert http.delete(f"{server.base}/data/copy").status_code == 204
        deleted = follower.wait_for_event("dataset.deleted", "copy")
    assert deleted["data"]["dataset"] == {"key": "copy"}


def test_last_event_id_replays_what_came_after(server: ThreadServer) -> None:
    with Follower(stream_url(server)) as first:
        opened = first.wait_for_event("open")
        scenario_id = create(server, "Instant")
        http.post(f"{server.base}/scenarios/{scenario_id}/run")
        first.wait_for_event("scenario.complete", scenario_id)
    seen = changes(first)
    headers = {"Last-Event-ID": str(seen[0]["id"])}
    with Follower(stream_url(server), headers) as resumed:
        resumed.wait_for_event("scenario.complete", scenario_id)
    assert [e["id"] for e in changes(resumed)] == [e["id"] for e in seen[1:]]
    # From the `open` id: everything, once.
    with Follower(stream_url(server), {"Last-Event-ID": opened["id"]}) as whole:
        whole.wait_for_event("scenario.complete", scenario_id)
    assert [e["data"] for e in changes(whole)] == [e["data"] for e in seen]


def test_an_id_not_kept_gets_a_reset(server: ThreadServer) -> None:
    create(server, "Instant")
    with Follower(stream_url(server), {"Last-Event-ID": "999999"}) as follower:
        reset = follower.wait_for_event("reset")
    assert reset["data"]["reason"]
    assert int(reset["id"]) < 999999


def test_a_bad_last_event_id_is_400(server: ThreadServer) -> None:
    for bad in ("x", "-3", "1.5"):
        r = http.get(stream_url(server), headers={"Last-Event-ID": bad})
        assert r.status_code == 400 and "Last-Event-ID" in r.json()["detail"]


def test_unknown_and_foreign_sessions_are_404(tmp_path: Path) -> None:
    keys = {"k-alice": "alice", "k-bob": "bob"}
    with ThreadServer(api_keys=keys) as server:
        alice = {"X-API-Key": "k-alice"}
        created = http.post(
            f"http://127.0.0.1:{server.port}{PREFIX}/sessions",
            json={"display_name": "a1"},
            headers=alice,
        )
        session_id = created.json()["session"]["id"]
        url = stream_url(server, session_id)
        assert http.get(url, headers={"X-API-Key": "k-bob"}).status_code == 404
        assert http.get(stream_url(server, "nope"), headers=alice).status_code == 404
        with Follower(url, alice) as follower:
            follower.wait_for_event("open")
        assert follower.status == 200


def test_rename_and_delete_of_the_session(server: ThreadServer) -> None:
    root = f"http://127.0.0.1:{server.port}{PREFIX}/sessions"
    session_id = http.post(root, json={"display_name": "s2"}).json()["session"]["id"]
    with Follower(stream_url(server, session_id)) as follower:
        follower.wait_for_event("open")
        http.patch(f"{root}/{session_id}", json={"display_name": "s3"})
        renamed = follower.wait_for_event("session.renamed")
        assert renamed["data"]["session"] == {"display_name": "s3"}
        assert http.delete(f"{root}/{session_id}").status_code == 200
        follower.wait_for_event("session.deleted")
        # The stream ends with its session.
        wait_for(lambda: follower.ended, what="the stream to end")


def test_pinning_and_unpinning_the_baseline_are_told(server: ThreadServer) -> None:
    """A compare view following the stream learns of a new baseline without polling."""
    root = f"http://127.0.0.1:{server.port}{PREFIX}/sessions/main"
    scenario_id = create(server, "Instant")
    with Follower(stream_url(server)) as follower:
        follower.wait_for_event("open")
        assert http.put(f"{root}/baseline", json={"scenario_id": scenario_id}).status_code == 200
        pinned = follower.wait_for_event("baseline.pinned")
        assert pinned["data"]["subject"] == scenario_id
        assert pinned["data"]["baseline"]["scenario_id"] == scenario_id
        assert http.delete(f"{root}/baseline").status_code == 200
        unpinned = follower.wait_for_event("baseline.unpinned")
        assert unpinned["data"]["subject"] == scenario_id
        # Unpinning with none pinned changes nothing and tells nothing.
        assert http.delete(f"{root}/baseline").status_code == 200
        http.patch(f"{root}", json={"display_name": "after"})
        follower.wait_for_event("session.renamed")
    kinds = [e["event"] for e in changes(follower)]
    assert kinds.count("baseline.unpinned") == 1


def test_other_sessions_changes_are_not_sent(server: ThreadServer) -> None:
    root = f"http://127.0.0.1:{server.port}{PREFIX}/sessions"
    other = http.post(root, json={"display_name": "other"}).json()["session"]["id"]
    with Follower(stream_url(server, other)) as follower:
        follower.wait_for_event("open")
        create(server, "Instant")  # in main
        http.post(f"{root}/{other}/data/Master data/derive", json={"new_key": "mine"})
        follower.wait_for_event("dataset.added", "mine")
    assert [e["event"] for e in changes(follower)] == ["dataset.added"]


def test_idle_timeout_ends_the_stream(server: ThreadServer) -> None:
    r = http.get(stream_url(server), params={"idle_timeout": 0.2}, timeout=30)
    assert r.status_code == 200
    assert "event: open" in r.text


def test_keep_alive_and_disconnect(server: ThreadServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_events, "KEEP_ALIVE_SECONDS", 0.2)
    monkeypatch.setattr(session_events, "RECHECK_SECONDS", 0.1)
    hub = server.sessions.runtime.changes
    with Follower(stream_url(server)) as follower:
        wait_for(lambda: "keep-alive" in follower.comments, what="a keep-alive")
        assert hub.subscriber_count() == 1
    wait_for(lambda: hub.subscriber_count() == 0, what="the stream to leave the hub")


def test_a_stream_on_sqlite_sees_its_own_process(tmp_path: Path) -> None:
    with (
        ThreadServer(has_persistent_state=True, data_path=str(tmp_path)) as server,
        Follower(stream_url(server)) as follower,
    ):
        follower.wait_for_event("open")
        scenario_id = create(server, "Instant")
        http.post(f"{server.base}/scenarios/{scenario_id}/run")
        follower.wait_for_event("scenario.complete", scenario_id)


def test_the_streams_keep_alive_comes_before_fastapis_ping() -> None:
    """FastAPI's `EventSourceResponse` sends `: ping` after `_PING_INTERVAL` seconds
    without an item; the stream's own `: keep-alive` (counted in waits of at most
    `RECHECK_SECONDS`) comes first, so clients keep seeing `keep-alive` alone."""
    interval = fastapi.routing._PING_INTERVAL
    assert interval >= session_events.KEEP_ALIVE_SECONDS + session_events.RECHECK_SECONDS
