"""`study.progress` on the session's stream: a study's status, counts and best trial
(or Pareto set's size) after its trials start or end, coalesced with
`experiment.progress` in one `BatchProgress`; other sessions are not told, and the
`study.changed` changes that bring it are never sent as they are."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.sse import ServerSentEvent, format_sse_event

from algomancy_api import experiment_events
from algomancy_api.batch_events import PROGRESS_SECONDS, BatchProgress
from algomancy_api.experiment_events import EXPERIMENTS
from algomancy_api.study_events import STUDIES
from algomancy_core.changes import Change
from algomancy_core.studies import progress, service
from algomancy_core.studies.book import COMPLETE, RUNNING, T_COMPLETE, T_RUNNING, TrialRecord
from algomancy_example.domain import MASTER_DATA
from tests import patient_http as http
from tests.polling import wait_for
from tests.server import ServerProcess
from tests.streams import Follower

from .conftest import PREFIX
from .test_api_events import ThreadServer
from .test_api_studies import F1, F2, LOAD, RELEASE, HeldTwo, Two, data


@pytest.fixture
def server() -> Iterator[ThreadServer]:
    RELEASE.set()
    with ThreadServer(
        algorithms=[Two, HeldTwo],
        kpis=[F1, F2, LOAD],
        initial_datasets=lambda: {"Master data": data()},
    ) as s:
        yield s
    RELEASE.set()


def stream_url(server: ThreadServer, session: str = "main") -> str:
    return f"http://127.0.0.1:{server.port}{PREFIX}/sessions/{session}/events"


def start_study(server: ThreadServer, name: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "base": {"algo_name": "Two", "dataset_key": "Master data"},
        "objectives": [{"kpi": "f1"}],
        "n_trials": 6,
        "seed": 3,
        **extra,
    }
    answer = http.post(f"{server.base}/studies", json=body)
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def progress_of(follower: Follower, study_id: str) -> list[dict[str, Any]]:
    return [
        e["data"]["study"]
        for e in list(follower.events)
        if e["event"] == "study.progress" and e["data"]["subject"] == study_id
    ]


def wait_until_ended(follower: Follower, study_id: str, status: str = "complete") -> None:
    wait_for(
        lambda: any(p["status"] == status for p in progress_of(follower, study_id)),
        what=f"a study.progress event with the study {status}",
    )


def test_the_stream_carries_a_studys_best_to_the_end(server: ThreadServer) -> None:
    with Follower(stream_url(server)) as follower:
        follower.wait_for_event("open")
        made = start_study(server, "least-f1")
        wait_until_ended(follower, made["id"])
    told = progress_of(follower, made["id"])
    last = told[-1]
    got = http.get(f"{server.base}/studies/{made['id']}").json()
    assert last["status"] == "complete" and last["ended_by"] == "trials"
    assert last["name"] == "least-f1"
    assert last["counts"] == got["counts"] and last["counts"]["complete"] == 6
    assert last["best"] is not None and last["best"] == got["best"]
    assert last["pareto_size"] is None
    # Each event is a state the study went through: counts never go back.
    ended = [p["counts"]["complete"] + p["counts"]["failed"] for p in told]
    assert ended == sorted(ended)
    event = next(e for e in follower.events if e["event"] == "study.progress")
    assert "id" not in event  # derived, not a stored change: a reconnect resumes after changes
    assert event["data"]["kind"] == "study.progress"
    assert "study.changed" not in follower.kinds()


def test_two_objectives_tell_the_pareto_sets_size(server: ThreadServer) -> None:
    with Follower(stream_url(server)) as follower:
        follower.wait_for_event("open")
        made = start_study(
            server, "front", objectives=[{"kpi": "f1"}, {"kpi": "f2"}], sampler="nsga2"
        )
        wait_until_ended(follower, made["id"])
    last = progress_of(follower, made["id"])[-1]
    got = http.get(f"{server.base}/studies/{made['id']}").json()
    assert last["best"] is None
    assert last["pareto_size"] == len(got["pareto"]) >= 1
    assert last["counts"] == got["counts"]


def test_a_stop_is_told_to_the_end(server: ThreadServer) -> None:
    RELEASE.clear()
    with Follower(stream_url(server)) as follower:
        follower.wait_for_event("open")
        made = start_study(
            server, "held", base={"algo_name": "HeldTwo", "dataset_key": "Master data"}
        )
        wait_for(
            lambda: any(p["counts"]["running"] for p in progress_of(follower, made["id"])),
            what="a study.progress event with a trial running",
        )
        assert http.post(f"{server.base}/studies/{made['id']}/stop").status_code == 200
        wait_until_ended(follower, made["id"], "stopped")
    last = progress_of(follower, made["id"])[-1]
    assert last["ended_by"] == "stop" and last["counts"]["running"] == 0
    assert last["counts"] == http.get(f"{server.base}/studies/{made['id']}").json()["counts"]


def test_a_study_in_another_session_is_not_told(server: ThreadServer) -> None:
    root = f"http://127.0.0.1:{server.port}{PREFIX}/sessions"
    other = http.post(root, json={"display_name": "other"}).json()["session"]["id"]
    with Follower(stream_url(server, other)) as elsewhere, Follower(stream_url(server)) as here:
        elsewhere.wait_for_event("open")
        here.wait_for_event("open")
        made = start_study(server, "mine")
        wait_until_ended(here, made["id"])
        # The other stream is told its own changes meanwhile, and those only.
        http.post(f"{root}/{other}/data/Master data/derive", json={"new_key": "mine"})
        elsewhere.wait_for_event("dataset.added")
    assert "study.progress" not in elsewhere.kinds()
    assert "study.changed" not in elsewhere.kinds()


def test_a_replay_skips_the_changes_behind_study_progress(server: ThreadServer) -> None:
    with Follower(stream_url(server)) as follower:
        opened = follower.wait_for_event("open")
        made = start_study(server, "replayed", n_trials=2)
        wait_until_ended(follower, made["id"])
    last_scenario = max(int(e["id"]) for e in follower.events if e["event"].startswith("scenario."))
    resumed = {"Last-Event-ID": opened["id"]}
    with Follower(stream_url(server), headers=resumed) as again:
        wait_for(
            lambda: any(int(e.get("id", -1)) == last_scenario for e in list(again.events)),
            what="the replay up to the last scenario change",
        )
    assert "study.changed" not in again.kinds()
    assert again.kinds().count("scenario.complete") == 2


# -- BatchProgress with both kinds, without a server --------------------------


class FakeManager:
    session_id = "s"


def change(seq: int, kind: str, subject: str) -> Change:
    return Change(seq, "s", kind, subject, {}, datetime.now(UTC))


def test_each_kind_keeps_its_own_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[str, set[str]]] = []

    def experiments(m: FakeManager, ids: set[str]) -> list[dict[str, Any]]:
        reads.append(("experiments", set(ids)))
        return [{"id": "e", "status": "running"}]

    def studies(m: FakeManager, ids: set[str]) -> list[dict[str, Any]]:
        reads.append(("studies", set(ids)))
        return [{"id": i, "status": "running"} for i in sorted(ids)]

    monkeypatch.setattr(experiment_events, "touched_by", experiments)
    monkeypatch.setattr(service, "progress_of", studies)
    batches = BatchProgress(FakeManager(), [EXPERIMENTS, STUDIES])  # type: ignore[arg-type]

    async def scenario() -> list[list[ServerSentEvent]]:
        sent = []
        batches.note([change(1, "scenario.complete", "a")])
        sent.append(await batches.due(100.0))  # the experiment's first round
        batches.note([change(2, "study.changed", "s1"), change(3, "scenario.complete", "b")])
        sent.append(await batches.due(100.5))  # the study's first round; the scenario waits
        batches.note([change(4, "study.changed", "s1"), change(5, "study.changed", "s2")])
        assert batches.wait(100.6, 5.0) == pytest.approx(100.0 + PROGRESS_SECONDS - 100.6)
        sent.append(await batches.due(100.0 + PROGRESS_SECONDS))  # the experiment's rest
        sent.append(await batches.due(100.5 + PROGRESS_SECONDS))  # both studies, one round
        sent.append(await batches.due(300.0))  # nothing since
        return sent

    sent = asyncio.run(scenario())
    assert [len(s) for s in sent] == [1, 1, 1, 2, 0]
    assert reads == [
        ("experiments", {"a"}),
        ("studies", {"s1"}),
        ("experiments", {"b"}),
        ("studies", {"s1", "s2"}),
    ]
    sse = sent[1][0]
    event = format_sse_event(data_str=sse.raw_data, event=sse.event, id=sse.id).decode()
    assert event.startswith("event: study.progress\ndata: ") and "\nid:" not in event
    body = orjson.loads(event.split("data: ", 1)[1])
    assert list(body) == ["kind", "session_id", "subject", "at", "study"]
    assert body["subject"] == "s1" and body["study"] == {"id": "s1", "status": "running"}


def test_a_stream_ending_flushes_every_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "progress_of", lambda m, ids: [{"id": i} for i in sorted(ids)])
    batches = BatchProgress(FakeManager(), [EXPERIMENTS, STUDIES])  # type: ignore[arg-type]

    async def scenario() -> list[list[ServerSentEvent]]:
        batches.note([change(1, "study.changed", "s1")])
        first = await batches.due(100.0)
        batches.note([change(2, "study.changed", "s1")])
        return [first, await batches.due(100.1), await batches.due(100.1, force=True)]

    assert [len(s) for s in asyncio.run(scenario())] == [1, 0, 1]


# -- the driver's step records study.changed when followers would see a change --


class FakeHub:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, str]] = []

    def record(self, session_id: str, kind: str, subject: str, payload: dict[str, Any]) -> None:
        self.recorded.append((session_id, kind, subject))


@dataclasses.dataclass
class FakeRecord:
    id: str = "st"
    state: str = RUNNING
    stop_requested: bool = False


class FakeStep:
    """A step whose `run` does `act` to its trials and record."""

    def __init__(self, act: str) -> None:
        self.hub = FakeHub()
        runtime = type("R", (), {"changes": self.hub})()
        self.manager = type("M", (), {"session_id": "s", "_runtime": runtime})()
        self.record = FakeRecord()
        self.trials = [TrialRecord("st", 0, T_RUNNING, "asked", {}, "sc0")]
        self.act = act

    def run(self, now: datetime) -> FakeRecord:
        if self.act == "tell":
            self.trials = [dataclasses.replace(self.trials[0], state=T_COMPLETE)]
        elif self.act == "end":
            self.record = dataclasses.replace(self.record, state=COMPLETE)
        elif self.act == "fail":
            self.trials = [*self.trials, TrialRecord("st", 1, T_RUNNING, "asked", {})]
            raise RuntimeError("half way")
        elif self.act == "report":  # intermediate values only: nothing a follower sees
            self.trials = [dataclasses.replace(self.trials[0], intermediate=[[0, 1.0]])]
        return self.record


@pytest.mark.parametrize(("act", "told"), [("tell", 1), ("end", 1), ("wait", 0), ("report", 0)])
def test_a_step_records_study_changed_only_when_it_changed(act: str, told: int) -> None:
    step = FakeStep(act)
    progress.stepped(step, datetime.now(UTC))  # type: ignore[arg-type]
    assert step.hub.recorded == [("s", "study.changed", "st")] * told


def test_a_step_that_fails_half_way_still_records_what_it_wrote() -> None:
    step = FakeStep("fail")
    with pytest.raises(RuntimeError):
        progress.stepped(step, datetime.now(UTC))  # type: ignore[arg-type]
    assert step.hub.recorded == [("s", "study.changed", "st")]


# -- across server processes sharing a store ----------------------------------


@pytest.mark.slow
def test_a_stream_on_another_process_is_told(tmp_path: Path) -> None:
    """A study made through server A (driven by whichever process takes its lease)
    is told on a stream held on server B: `study.changed` is a stored change."""
    args = ["--example", "--no-ui", "--data-path", str(tmp_path)]
    with (
        ServerProcess(args, tmp_path) as a,
        ServerProcess(args, tmp_path) as b,
    ):
        session = http.get(f"{b.base}{PREFIX}/sessions").json()["default"]
        with Follower(f"{b.base}{PREFIX}/sessions/{session}/events") as follower:
            follower.wait_for_event("open")
            body = {
                "name": "across",
                "base": {"algo_name": "Batch picking", "dataset_key": MASTER_DATA},
                "space": [{"name": "batch_size"}],
                "objectives": [{"kpi": "travel_distance"}],
                "n_trials": 3,
            }
            made = http.post(f"{a.base}{PREFIX}/sessions/{session}/studies", json=body)
            assert made.status_code == 201, made.text
            wait_until_ended(follower, made.json()["id"])
        got = http.get(f"{a.base}{PREFIX}/sessions/{session}/studies/{made.json()['id']}")
        last = progress_of(follower, made.json()["id"])[-1]
        assert last["counts"] == got.json()["counts"] and last["best"] == got.json()["best"]
