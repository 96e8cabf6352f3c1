"""`experiment.progress` on the session's stream: counts by status after its
scenarios change, coalesced to at most one round a second per stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.sse import ServerSentEvent, format_sse_event

from algomancy_api import experiment_events
from algomancy_api.batch_events import PROGRESS_SECONDS, BatchProgress
from algomancy_api.experiment_events import EXPERIMENTS
from algomancy_core.changes import Change
from algomancy_core.errors import NotFoundError
from tests import patient_http as http
from tests.core.conftest import Gate
from tests.polling import wait_for
from tests.streams import Follower

from .conftest import PREFIX
from .test_api_events import ThreadServer


@pytest.fixture
def server() -> Iterator[ThreadServer]:
    with ThreadServer() as s:
        yield s


def experiment(server: ThreadServer, name: str, algo: str, counts: list[int]) -> dict[str, Any]:
    body = {
        "name": name,
        "base": {"algo_name": algo, "dataset_key": "Master data"},
        "design": {"kind": "grid", "axes": [{"name": "count", "values": counts}]},
    }
    answer = http.post(f"{server.base}/experiments", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def progress_of(follower: Follower, experiment_id: str) -> list[dict[str, Any]]:
    return [
        e["data"]["experiment"]
        for e in list(follower.events)
        if e["event"] == "experiment.progress" and e["data"]["subject"] == experiment_id
    ]


def test_the_stream_carries_an_experiments_counts_to_the_end(server: ThreadServer) -> None:
    url = f"http://127.0.0.1:{server.port}{PREFIX}/sessions/main/events"
    with Follower(url) as follower:
        follower.wait_for_event("open")
        made = experiment(server, "three", "Instant", [1, 2, 3])
        wait_for(
            lambda: any(p["status"] == "complete" for p in progress_of(follower, made["id"])),
            what="an experiment.progress event with the experiment complete",
        )
    last = progress_of(follower, made["id"])[-1]
    assert last["name"] == "three"
    assert last["counts"]["complete"] == 3 and last["counts"]["planned"] == 3
    assert last["counts"] == http.get(f"{server.base}/experiments/{made['id']}").json()["counts"]
    event = next(e for e in follower.events if e["event"] == "experiment.progress")
    assert "id" not in event  # derived, not a stored change: a reconnect resumes after changes
    assert event["data"]["kind"] == "experiment.progress"


def test_a_scenario_outside_experiments_sends_no_progress(server: ThreadServer) -> None:
    url = f"http://127.0.0.1:{server.port}{PREFIX}/sessions/main/events"
    with Follower(url) as follower:
        follower.wait_for_event("open")
        body = {"tag": "alone", "dataset_key": "Master data", "algo_name": "Instant"}
        scenario_id = http.post(f"{server.base}/scenarios", json=body).json()["id"]
        http.post(f"{server.base}/scenarios/{scenario_id}/run")
        follower.wait_for_event("scenario.complete", scenario_id)
        made = experiment(server, "one", "Instant", [1])
        wait_for(lambda: progress_of(follower, made["id"]), what="the experiment's progress")
    assert [
        e["data"]["subject"] for e in follower.events if e["event"] == "experiment.progress"
    ] == [made["id"]] * len(progress_of(follower, made["id"]))


def test_cancel_is_seen_on_the_stream(server: ThreadServer, gate: Gate) -> None:
    url = f"http://127.0.0.1:{server.port}{PREFIX}/sessions/main/events"
    with Follower(url) as follower:
        follower.wait_for_event("open")
        made = experiment(server, "held", "Gated", [1, 2])
        assert gate.started.wait(30)
        assert http.post(f"{server.base}/experiments/{made['id']}/cancel").status_code == 200
        gate.release.set()
        wait_for(
            lambda: any(p["status"] == "cancelled" for p in progress_of(follower, made["id"])),
            what="the cancelled experiment's progress",
        )


class FakeManager:
    session_id = "s"

    def __init__(self) -> None:
        self.reads: list[set[str]] = []


def change(seq: int, kind: str, subject: str) -> Change:
    return Change(seq, "s", kind, subject, {}, datetime.now(UTC))


def test_rounds_are_at_most_one_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    manager = FakeManager()

    def touched_by(m: FakeManager, ids: set[str]) -> list[dict[str, Any]]:
        m.reads.append(set(ids))
        return [{"id": "e", "name": "e", "status": "running", "counts": {"complete": len(ids)}}]

    monkeypatch.setattr(experiment_events, "touched_by", touched_by)
    progress = BatchProgress(manager, [EXPERIMENTS])  # type: ignore[arg-type]

    async def scenario() -> list[list[ServerSentEvent]]:
        sent = []
        progress.note([change(1, "scenario.complete", "a")])
        sent.append(await progress.due(100.0))  # the first round goes at once
        for seq, now in enumerate((100.1, 100.5, 100.9), start=2):
            progress.note([change(seq, "scenario.complete", f"x{seq}")])
            sent.append(await progress.due(now))  # gathered, not sent
        assert progress.wait(100.9, 5.0) == pytest.approx(100.0 + PROGRESS_SECONDS - 100.9)
        sent.append(await progress.due(100.0 + PROGRESS_SECONDS))  # the rest, in one round
        sent.append(await progress.due(200.0))  # nothing changed since: nothing
        progress.note([change(9, "scenario.progress", "y")])  # progress ticks do not count
        sent.append(await progress.due(300.0))
        return sent

    sent = asyncio.run(scenario())
    assert [len(s) for s in sent] == [1, 0, 0, 0, 1, 0, 0]
    assert manager.reads == [{"a"}, {"x2", "x3", "x4"}]
    sse = sent[4][0]
    event = format_sse_event(data_str=sse.raw_data, event=sse.event, id=sse.id).decode()
    assert event.startswith("event: experiment.progress\ndata: ") and "\nid:" not in event
    data = orjson.loads(event.split("data: ", 1)[1])
    assert data["experiment"]["counts"] == {"complete": 3} and data["subject"] == "e"


def test_a_session_gone_meanwhile_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def gone(m: FakeManager, ids: set[str]) -> list[dict[str, Any]]:
        raise NotFoundError("session 's' not found")

    monkeypatch.setattr(experiment_events, "touched_by", gone)
    progress = BatchProgress(FakeManager(), [EXPERIMENTS])  # type: ignore[arg-type]
    progress.note([change(1, "scenario.complete", "a")])
    assert asyncio.run(progress.due(100.0)) == []
