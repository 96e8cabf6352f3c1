"""Optimisation studies through HTTP (in-process), on the memory and SQLite stores:
Pareto sets checked by brute force, constraints, warm starts without runs, the trial
budget, stop, delete, the 4xx answers, and a driver replaced after its lease expires."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_api.client import AlgomancyClient, AlgomancyError, Study
from algomancy_core import (
    BaseAlgorithm,
    BaseKPI,
    BaseParameterSet,
    BaseResult,
    FloatParameter,
    IntegerParameter,
    KpiDirection,
    RunContext,
)
from algomancy_core.parameters import EnumParameter
from algomancy_core.scenario import utcnow
from algomancy_core.studies import steps
from algomancy_core.studies.book import ASKED, T_RUNNING, TrialRecord
from algomancy_core.studies.driver import StudyDriver
from algomancy_data import DataSource
from tests.api.conftest import PREFIX, api_config
from tests.fixtures import TABULAR_FRAME_V1_SCHEMA, fixture_file
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import wait_for

M = f"{PREFIX}/sessions/main"
SCHEMA = json.loads(fixture_file(TABULAR_FRAME_V1_SCHEMA).read_text())
RUNS: list[dict[str, Any]] = []
RUNS_LOCK = threading.Lock()
RELEASE = threading.Event()


class TwoParameters(BaseParameterSet):
    x = FloatParameter(default=0.5, min=0.0, max=1.0)
    y = FloatParameter(default=0.5, min=0.0, max=1.0)
    k = IntegerParameter(default=1, min=1, max=3)
    mode = EnumParameter(choices=["a", "b"], default="a")


class Two(BaseAlgorithm):
    """f1 = x + y/10, f2 = (1 - x)^2 + y (+ 0.1 in mode b), load = x; every run is
    counted in RUNS."""

    name = "Two"
    parameters = TwoParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        p = self.params
        with RUNS_LOCK:
            RUNS.append({"x": p.x, "y": p.y, "k": p.k, "mode": p.mode})
        f2 = (1 - p.x) ** 2 + p.y + (0.1 if p.mode == "b" else 0.0)
        return BaseResult({"f1": p.x + p.y / 10 + p.k / 100, "f2": f2, "load": p.x})


class HeldTwo(Two):
    """Two that waits for the test's RELEASE (reporting progress, so it can stop)."""

    name = "HeldTwo"

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        while not RELEASE.wait(0.01):
            ctx.progress(0.5, "held")
        return super().run(data, ctx)


def _kpi(key: str, direction: KpiDirection, limit: float | None = None) -> type[BaseKPI]:
    class K(BaseKPI):
        name = key
        threshold = limit

        def compute(self, result: BaseResult) -> float:
            return float(result.values[key])

    K.direction = direction
    return K


F1 = _kpi("f1", KpiDirection.LOWER)
F2 = _kpi("f2", KpiDirection.LOWER)
LOAD = _kpi("load", KpiDirection.AT_MOST, 0.8)


def data() -> DataSource:
    return DataSource("Master data", tables={"items": pd.DataFrame({"qty": [1, 2]})})


def _build(tmp_path: Path, store: str, **extra: Any) -> TestClient:
    values: dict[str, Any] = {
        "algorithms": [Two, HeldTwo],
        "kpis": [F1, F2, LOAD],
        "initial_datasets": lambda: {"Master data": data()},
        **extra,
    }
    if store == "sqlite":
        values |= {"has_persistent_state": True, "data_path": str(tmp_path / "s")}
    elif store != "memory":
        values |= {"database_url": store}
    return TestClient(ApiLauncher.build(api_config(**values)), raise_server_exceptions=False)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    RELEASE.set()
    store = request.param
    if store == "postgres":
        store = request.getfixturevalue("postgres_url")
    with _build(tmp_path, store) as test_client:
        yield test_client
    RELEASE.set()


def study_body(name: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "base": {"algo_name": "Two", "dataset_key": "Master data"},
        "objectives": [{"kpi": "f1"}],
        "n_trials": 6,
        "seed": 3,
    }
    body.update(extra)
    return body


def create(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"{M}/studies", json=body)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def finished(client: TestClient, study_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any]:
        found: dict[str, Any] = client.get(f"{M}/studies/{study_id}").json()
        return found

    done: dict[str, Any] = wait_for(probe, lambda s: s["status"] in ("complete", "stopped"))
    return done


def frame(client: TestClient, path: str) -> pd.DataFrame:
    answer = client.get(f"{M}/studies/{path}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    jsonschema.validate(body, SCHEMA)
    return pd.DataFrame(body["rows"], columns=body["columns"])


def dominated_by(a: list[float], b: list[float]) -> bool:
    """True when b dominates a (both minimised)."""
    return all(y <= x for x, y in zip(a, b, strict=True)) and any(
        y < x for x, y in zip(a, b, strict=True)
    )


def test_a_two_objective_study_returns_exactly_its_feasible_pareto_front(
    client: TestClient,
) -> None:
    body = study_body(
        "front",
        objectives=[{"kpi": "f1"}, {"kpi": "f2"}],
        constraints=[{"kpi": "load"}],  # its threshold: at most 0.8
        space=[{"name": "x"}, {"name": "y"}, {"name": "mode"}],
        sampler="nsga2",
        n_trials=14,
        parallel=2,
    )
    study = finished(client, create(client, body)["id"])
    assert study["status"] == "complete" and study["ended_by"] == "trials"
    assert study["constraints"] == [{"kpi": "load", "max": 0.8}]
    assert study["counts"]["budgeted"] == 14 and study["counts"]["running"] == 0
    trials = frame(client, f"{study['id']}/trials")
    assert list(trials["number"]) == list(range(14))
    assert trials["scenario_id"].dropna().is_unique
    complete = trials[trials["state"] == "complete"]
    feasible = complete[complete["load"] <= 0.8]
    assert len(complete) > len(feasible) or len(feasible) >= 1
    front = {t["number"] for t in study["pareto"]}
    assert front, study
    points = {int(r.number): [r.f1, r.f2] for r in feasible.itertuples()}
    for number in front:
        assert number in points  # feasible: no returned point breaks the constraint
        assert not any(dominated_by(points[number], other) for other in points.values())
    for number, value in points.items():
        if number not in front:
            assert any(dominated_by(value, points[f]) for f in front), number
    pareto = frame(client, f"{study['id']}/pareto")
    assert set(pareto["number"]) == front
    assert (pareto["load"] <= 0.8).all()


def test_warm_start_tells_the_session_scenarios_without_running_them(
    client: TestClient,
) -> None:
    ids = []
    for n, x in enumerate((0.2, 0.4, 0.6)):
        answer = client.post(
            f"{M}/scenarios",
            json={
                "tag": f"by hand {n}",
                "dataset_key": "Master data",
                "algo_name": "Two",
                "algo_params": {"x": x, "y": 0.1},
            },
        )
        assert answer.status_code in (200, 201), answer.text
        ids.append(answer.json()["id"])
        client.post(f"{M}/scenarios/{ids[-1]}/run")
    for scenario_id in ids:
        wait_for(
            lambda s=scenario_id: client.get(f"{M}/scenarios/{s}").json()["status"],
            lambda status: status == "complete",
        )
    with RUNS_LOCK:
        before = len(RUNS)
    body = study_body(
        "warm",
        space=[{"name": "x"}, {"name": "y"}],
        n_trials=3,
        warm_start={"scenarios": "session", "points": [{"x": 0.4, "y": 0.1}]},
    )
    study = finished(client, create(client, body)["id"])
    trials = frame(client, f"{study['id']}/trials")
    warm = trials[trials["source"] == "warm"]
    assert list(warm["scenario_id"]) == ids
    assert (warm["state"] == "complete").all()
    assert list(warm["f1"]) == pytest.approx([0.2 + 0.01 + 0.01, 0.4 + 0.02, 0.6 + 0.02])
    assert study["counts"]["warm"] == 3 and study["counts"]["budgeted"] == 3
    # The listed point is the second scenario again: told from it, not run.
    point = trials[trials["source"] == "point"].iloc[0]
    assert point["state"] == "complete" and point["f1"] == pytest.approx(0.42)
    own = trials[(trials["source"] != "warm") & trials["scenario_id"].notna()]
    made = {s["id"] for s in client.get(f"{M}/scenarios").json() if s["tag"].startswith("warm-")}
    with RUNS_LOCK:
        ran = len(RUNS) - before
    assert ran == len(made) == len(set(own["scenario_id"]) & made) == 2


def test_exactly_the_budget_and_unique_numbers_with_trials_in_parallel(
    client: TestClient,
) -> None:
    study = finished(
        client, create(client, study_body("budget", n_trials=7, parallel=3, sampler="random"))["id"]
    )
    assert study["counts"] == {
        "total": 7,
        "running": 0,
        "complete": 7,
        "failed": 0,
        "pruned": 0,
        "warm": 0,
        "budgeted": 7,
    }
    trials = frame(client, f"{study['id']}/trials")
    assert sorted(trials["number"]) == list(range(7))
    best = study["best"]
    assert best["values"][0] == trials["f1"].min()
    tags = [s["tag"] for s in client.get(f"{M}/scenarios").json() if s["tag"].startswith("budget-")]
    assert len(tags) == len(set(tags)) <= 7
    listed = client.get(f"{M}/studies").json()
    assert [s["name"] for s in listed] == ["budget"]


def test_a_trial_told_from_another_trials_run_shows_its_constraint_kpis(
    client: TestClient,
) -> None:
    # Six points in all (k x mode) for ten trials: some trials repeat a point and are
    # told from the first one's scenario, storing none of their own.
    body = study_body(
        "repeats",
        space=[{"name": "k"}, {"name": "mode"}],
        constraints=[{"kpi": "load"}],
        sampler="random",
        n_trials=10,
    )
    study = finished(client, create(client, body)["id"])
    trials = frame(client, f"{study['id']}/trials")
    repeats = trials[trials["scenario_id"].isna()]
    assert len(repeats) > 0 and set(trials["state"]) == {"complete"}
    # The base's x is 0.5: load is 0.5 in every row, the repeats' included.
    assert list(trials["load"]) == [0.5] * 10 and trials["f1"].notna().all()


def test_qmc_and_tpe_studies_run_their_budget(client: TestClient) -> None:
    for sampler in ("qmc", "tpe"):
        body = study_body(f"s-{sampler}", sampler=sampler, n_trials=12)
        study = finished(client, create(client, body)["id"])
        assert study["counts"]["complete"] == 12, study
        trials = frame(client, f"{study['id']}/trials")
        points = {(r.x, r.y, r.k, r.mode) for r in trials.itertuples()}
        assert len(points) >= 10  # rebuilt for each ask, yet not the same point again


def test_stop_then_delete(client: TestClient) -> None:
    RELEASE.clear()
    body = study_body("held", n_trials=50, parallel=2)
    body["base"]["algo_name"] = "HeldTwo"
    study = create(client, body)
    wait_for(
        lambda: client.get(f"{M}/studies/{study['id']}").json()["counts"]["running"],
        lambda running: running == 2,
    )
    answer = client.post(f"{M}/studies/{study['id']}/stop")
    assert answer.status_code == 200
    assert answer.json()["status"] in ("stopping", "stopped")
    stopped = finished(client, study["id"])
    assert stopped["status"] == "stopped" and stopped["ended_by"] == "stop"
    assert stopped["counts"]["budgeted"] == 2 and stopped["counts"]["failed"] == 2
    assert client.delete(f"{M}/studies/{study['id']}?scenarios=delete").status_code == 204
    assert client.get(f"{M}/studies/{study['id']}").status_code == 404
    assert client.get(f"{M}/studies/{study['id']}/trials").status_code == 404
    tags = [s["tag"] for s in client.get(f"{M}/scenarios").json()]
    assert not [t for t in tags if t.startswith("held-")]


#: A change to a good request, the status it gets, a text the answer names.
BAD: list[tuple[dict[str, Any], int, str]] = [
    ({"base": {"algo_name": "Nope", "dataset_key": "Master data"}}, 404, "Nope"),
    ({"base": {"algo_name": "Two", "dataset_key": "Nope"}}, 404, "Nope"),
    ({"space": [{"name": "speed"}]}, 400, "speed"),
    ({"space": []}, 400, "space"),
    ({"space": [{"name": "x", "min": 2, "max": 1}]}, 400, "'x'"),
    ({"space": [{"name": "x", "min": 0, "log": True}]}, 400, "log"),
    ({"space": [{"name": "x", "choices": []}]}, 400, "space 'x': choices must be a non-empty list"),
    ({"space": [{"name": "x", "choices": ["a"]}]}, 400, "space 'x': x: must be a number"),
    ({"objectives": [{"kpi": "cost"}]}, 400, "cost"),
    ({"objectives": []}, 422, "objectives"),
    ({"constraints": [{"kpi": "f1"}]}, 400, "f1"),
    ({"sampler": "cmaes"}, 422, "sampler"),
    ({"n_trials": None}, 400, "n_trials"),
    ({"n_trials": 1001}, 400, "max_experiment_scenarios 1000"),
    ({"parallel": 0}, 422, "parallel"),
    ({"warm_start": {"points": [{"x": 3.0}]}}, 400, "warm_start.points[0]"),
    ({"warm_start": {"experiment": "nope"}}, 404, "nope"),
]
if importlib.util.find_spec("torch") is None:
    BAD.append(({"sampler": "gp"}, 422, "PyTorch"))


def test_bad_requests_are_refused_naming_the_field(client: TestClient) -> None:
    for change, status, named in BAD:
        body = study_body("bad") | change
        answer = client.post(f"{M}/studies", json={k: v for k, v in body.items() if v is not None})
        assert answer.status_code == status, (change, answer.text)
        assert named in answer.text, change
    assert client.get(f"{M}/studies").json() == []
    create(client, study_body("twice", n_trials=1))
    answer = client.post(f"{M}/studies", json=study_body("twice", n_trials=1))
    assert answer.status_code == 409 and "twice" in answer.text
    scenario = {"tag": "clash-3", "dataset_key": "Master data", "algo_name": "Two"}
    assert client.post(f"{M}/scenarios", json=scenario).status_code in (200, 201)
    answer = client.post(f"{M}/studies", json=study_body("clash"))  # tags clash-0, ...
    assert answer.status_code == 409 and "clash-3" in answer.text


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_driver_whose_lease_expires_is_replaced(tmp_path: Path, store: str) -> None:
    RELEASE.clear()
    with _build(tmp_path, store, lease_seconds=1.0) as client:
        runtime = client.app.state.sessions.runtime  # type: ignore[attr-defined]
        first = next(s for s in runtime.services if isinstance(s, StudyDriver))
        body = study_body("takeover", n_trials=5)
        body["base"]["algo_name"] = "HeldTwo"
        study = create(client, body)
        wait_for(
            lambda: client.get(f"{M}/studies/{study['id']}").json()["counts"]["running"],
            lambda running: running == 1,
        )
        first.stop(release=False)  # as if its process died: the lease stays until it expires
        held = frame(client, f"{study['id']}/trials")
        assert len(held) == 1
        RELEASE.set()
        second = StudyDriver(runtime, owner="successor")
        second.start()
        try:
            done = finished(client, study["id"])
        finally:
            second.stop()
        assert done["status"] == "complete" and done["counts"]["budgeted"] == 5
        trials = frame(client, f"{study['id']}/trials")
        assert list(trials["number"]) == list(range(5))
        assert trials["scenario_id"].is_unique
        # The trial in flight at the takeover was waited for, not asked again.
        assert trials["scenario_id"][0] == held["scenario_id"][0]
        tags = [
            s["tag"]
            for s in client.get(f"{M}/scenarios").json()
            if s["tag"].startswith("takeover-")
        ]
        assert sorted(tags) == [f"takeover-{n}" for n in range(5)]


def test_warm_start_from_an_experiment(client: TestClient) -> None:
    sweep = {
        "name": "sweep",
        "base": {"algo_name": "Two", "dataset_key": "Master data"},
        "design": {"kind": "grid", "axes": [{"name": "x", "values": [0.3, 0.5]}]},
    }
    experiment = client.post(f"{M}/experiments", json=sweep).json()
    wait_for(
        lambda: client.get(f"{M}/experiments/{experiment['id']}").json()["status"],
        lambda status: status == "complete",
    )
    body = study_body(
        "from-sweep",
        space=[{"name": "x"}],
        n_trials=1,
        warm_start={"experiment": experiment["id"]},
    )
    study = finished(client, create(client, body)["id"])
    trials = frame(client, f"{study['id']}/trials")
    warm = trials[trials["source"] == "warm"]
    assert list(warm["scenario_id"]) == experiment["scenario_ids"]
    assert list(warm["x"]) == [0.3, 0.5]
    assert study["counts"]["warm"] == 2 and study["counts"]["budgeted"] == 1


def test_a_time_budget_ends_the_study(client: TestClient) -> None:
    body = study_body("timed", n_trials=None, timeout_s=0.001)
    study = finished(client, create(client, {k: v for k, v in body.items() if v is not None})["id"])
    assert study["status"] == "complete" and study["ended_by"] == "time"
    assert study["counts"]["running"] == 0


def test_the_python_client_drives_a_study(tmp_path: Path) -> None:
    with _build(tmp_path, "memory") as http:
        api = AlgomancyClient("http://testserver", session="main", prefix=PREFIX, http=http)
        made = api.create_study(
            "by-client",
            "Two",
            "Master data",
            ["f1"],
            space=[{"name": "x"}, {"name": "k"}],
            constraints=[{"kpi": "load", "max": 0.5}],
            sampler="tpe",
            seed=1,
            n_trials=6,
        )
        assert isinstance(made, Study) and made.status == "running"
        assert [s.id for s in api.studies()] == [made.id]
        done = api.wait_study(made.id, timeout=60, interval=0.05)
        assert done.status == "complete" and done.counts["budgeted"] == 6
        trials = api.study_trials_dataframe(made.id)
        assert list(trials.index) == list(range(6))
        feasible = trials[(trials["state"] == "complete") & (trials["load"] <= 0.5)]
        best = api.best_trial(made.id)
        assert best is not None and best["values"][0] == feasible["f1"].min()
        assert best["params"]["x"] <= 0.5
        front = api.study_pareto_dataframe(made.id)  # one objective: the best (and ties)
        assert best["number"] in front.index and (front["f1"] == best["values"][0]).all()
        assert api.stop_study(made.id).status == "complete"  # ended already: unchanged
        api.delete_study(made.id)
        assert api.studies() == []
        with pytest.raises(AlgomancyError) as missing:
            api.get_study(made.id)
        assert missing.value.status == 404


def test_the_study_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from algomancy_api import client as client_module
    from algomancy_api.cli import app

    with _build(tmp_path, "memory") as http:

        class InProcess(AlgomancyClient):
            def __init__(self, url: str | None, *, session: str | None, api_key: str | None):
                super().__init__("http://testserver", session=session, prefix=PREFIX, http=http)

            def close(self) -> None:  # the test's client stays open
                pass

        monkeypatch.setattr(client_module, "AlgomancyClient", InProcess)
        runner = CliRunner()

        def cli(*args: str) -> str:
            done = runner.invoke(app, ["--url", "http://testserver", *args])
            assert done.exit_code == 0, done.output
            return done.output

        created = json.loads(
            cli(
                "--json",
                "study",
                "create",
                "by-cli",
                "--algorithm",
                "Two",
                "--objective",
                "f1",
                "--objective",
                "f2:min",
                "--space",
                "x=0.1:0.9",
                "--space",
                "mode=a,b",
                "--constraint",
                "load<=0.7",
                "--sampler",
                "random",
                "--n-trials",
                "4",
            )
        )
        assert created["space"] == [
            {"key": "x", "type": "float", "low": 0.1, "high": 0.9, "log": False, "step": None},
            {"key": "mode", "type": "categorical", "choices": ["a", "b"]},
        ]
        assert created["constraints"] == [{"kpi": "load", "max": 0.7}]
        finished(http, created["id"])
        shown = cli("study", "show", "by-cli")
        assert "by-cli" in shown and "on the front" in shown
        assert "by-cli" in cli("study", "list")
        assert json.loads(cli("--json", "study", "stop", created["id"]))["status"] == "complete"
        refused = runner.invoke(app, ["--url", "http://testserver", "study", "show", "nope"])
        assert refused.exit_code != 0 and "nope" in refused.output
        start = ["--url", "http://testserver", "study", "create", "y", "--algorithm", "Two"]
        unknown = runner.invoke(app, [*start, "--objective", "cost", "--n-trials", "1"])
        assert unknown.exit_code == 1 and "cost" in unknown.output
        bad_space = [*start, "--objective", "f1", "--n-trials", "1", "--space", "speed"]
        assert runner.invoke(app, bad_space).exit_code == 2
        usage = runner.invoke(
            app, ["study", "create", "x", "--algorithm", "Two", "--objective", "f1"]
        )
        assert usage.exit_code == 2 and "--n-trials" in usage.output


def test_a_study_whose_driver_process_died_is_taken_over_before_its_lease_expires(
    tmp_path: Path,
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = f"{socket.gethostname()}:{gone.pid}:0dead"
    with _build(tmp_path, "sqlite") as client:
        runtime = client.app.state.sessions.runtime  # type: ignore[attr-defined]
        first = next(s for s in runtime.services if isinstance(s, StudyDriver))
        first.stop()
        study = create(client, study_body("orphan", n_trials=3))
        now = utcnow()
        assert runtime.store.studies.claim(study["id"], dead, now, now + timedelta(hours=1))
        second = StudyDriver(runtime, owner="successor")
        second.start()
        try:
            done = finished(client, study["id"])  # long before the hour
        finally:
            second.stop()
        assert done["counts"]["budgeted"] == 3


def test_a_trial_left_without_its_scenario_or_unqueued_is_completed(tmp_path: Path) -> None:
    """What a driver that died mid-ask leaves: a trial recorded without its scenario,
    and one whose scenario was made but never queued."""
    with _build(tmp_path, "memory") as client:
        runtime = client.app.state.sessions.runtime  # type: ignore[attr-defined]
        first = next(s for s in runtime.services if isinstance(s, StudyDriver))
        first.stop()
        study = create(client, study_body("left", space=[{"name": "x"}], n_trials=3))
        book = runtime.store.studies
        book.add_trial(TrialRecord(study["id"], 0, T_RUNNING, ASKED, {"x": 0.25}))
        made = client.post(
            f"{M}/scenarios",
            json={
                "tag": "left-1",
                "dataset_key": "Master data",
                "algo_name": "Two",
                "algo_params": {"x": 0.75},
            },
        ).json()
        assert made["status"] == "created"
        book.add_trial(TrialRecord(study["id"], 1, T_RUNNING, ASKED, {"x": 0.75}, made["id"]))
        second = StudyDriver(runtime, owner="successor")
        second.start()
        try:
            done = finished(client, study["id"])
        finally:
            second.stop()
        trials = frame(client, f"{study['id']}/trials")
        assert done["counts"]["complete"] == 3
        assert list(trials["x"][:2]) == [0.25, 0.75]
        assert trials["scenario_id"][1] == made["id"]
        assert trials["f1"][0] == pytest.approx(0.25 + 0.05 + 0.01)


def test_a_trial_scenario_made_meanwhile_by_another_driver_is_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two drivers in one step (the first's lease ran out mid-step): the second looks
    for the trial's tag, finds nothing, and the first makes the scenario before the
    second does. The second takes that scenario; the study neither fails the trial
    nor stops."""
    with _build(tmp_path, "memory") as client:
        runtime = client.app.state.sessions.runtime  # type: ignore[attr-defined]
        first = next(s for s in runtime.services if isinstance(s, StudyDriver))
        first.stop()
        study = create(client, study_body("race", space=[{"name": "x"}], n_trials=3))
        runtime.store.studies.add_trial(TrialRecord(study["id"], 0, T_RUNNING, ASKED, {"x": 0.25}))
        body = {"tag": "race-0", "dataset_key": "Master data", "algo_name": "Two"}
        made = client.post(f"{M}/scenarios", json=body | {"algo_params": {"x": 0.25}}).json()
        looked: list[str] = []
        real_by_tag = steps.by_tag

        def late_by_tag(manager: Any, tag: str) -> Any:
            looked.append(tag)
            # The first look comes before the other driver made it.
            return None if looked.count(tag) == 1 else real_by_tag(manager, tag)

        monkeypatch.setattr(steps, "by_tag", late_by_tag)
        second = StudyDriver(runtime, owner="successor")
        second.start()
        try:
            done = finished(client, study["id"])
        finally:
            second.stop()
        assert done["status"] == "complete" and done["counts"]["complete"] == 3, done
        trials = frame(client, f"{study['id']}/trials")
        assert trials["scenario_id"][0] == made["id"]
        assert looked.count("race-0") == 2


def test_a_study_stops_when_the_session_refuses_its_scenarios(tmp_path: Path) -> None:
    with _build(tmp_path, "memory", max_scenarios_per_session=2) as client:
        body = study_body("limited", space=[{"name": "x"}], n_trials=5, sampler="random")
        study = finished(client, create(client, body)["id"])
        assert study["status"] == "stopped" and study["ended_by"] == "stop"
        assert study["counts"] == {
            "total": 3,
            "running": 0,
            "complete": 2,
            "failed": 1,
            "pruned": 0,
            "warm": 0,
            "budgeted": 3,
        }
