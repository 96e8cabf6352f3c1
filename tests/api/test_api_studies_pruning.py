"""Pruning in single-objective studies (in-process, memory and SQLite stores): a
synthetic iterative algorithm whose bad points report clearly worse curves gets those
trials pruned (trial state `pruned`, scenario `pruned`), the study still ends with
exactly its budget of final trials; a pruner on several objectives is refused (422)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_api.client import AlgomancyClient
from algomancy_core import (
    BaseAlgorithm,
    BaseKPI,
    BaseParameterSet,
    BaseResult,
    FloatParameter,
    KpiDirection,
    RunContext,
)
from algomancy_core.studies import search
from algomancy_core.studies.book import TrialRecord
from algomancy_data import DataSource
from tests.api.conftest import PREFIX, api_config
from tests.polling import wait_for

M = f"{PREFIX}/sessions/main"
STEPS = 10
#: A bad run waits at its last step for the pruner's stop; this is only a safety net.
HOLD_S = 60.0


class CurveParameters(BaseParameterSet):
    x = FloatParameter(default=0.5, min=0.0, max=1.0)


class Curve(BaseAlgorithm):
    """Reports `x + 1/(step+1)` for STEPS steps and ends; a bad point (x > 0.5)
    reports `10 + x + ...` instead, then waits (cancellable) until it is stopped."""

    name = "Curve"
    parameters = CurveParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        x = float(self.params.x)
        bad = x > 0.5
        value = 0.0
        for step in range(STEPS):
            value = (10.0 if bad else 0.0) + x + 1 / (step + 1)
            ctx.report(value, step)
        if bad:
            until = time.monotonic() + HOLD_S
            while time.monotonic() < until:
                ctx.progress(0.9, "holding")  # raises once the run is pruned
                time.sleep(0.01)
        return BaseResult({"cost": value, "spread": 1 - x})


def _kpi(key: str) -> type[BaseKPI]:
    class K(BaseKPI):
        name = key
        direction = KpiDirection.LOWER

        def compute(self, result: BaseResult) -> float:
            return float(result.values[key])

    return K


@pytest.fixture(params=["memory", "sqlite"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    values: dict[str, Any] = {
        "algorithms": [Curve],
        "kpis": [_kpi("cost"), _kpi("spread")],
        "initial_datasets": lambda: {
            "Master data": DataSource("Master data", tables={"t": pd.DataFrame({"a": [1]})})
        },
    }
    if request.param == "sqlite":
        values |= {"has_persistent_state": True, "data_path": str(tmp_path / "s")}
    app = ApiLauncher.build(api_config(**values))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def body(**extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": "prune",
        "base": {"algo_name": "Curve", "dataset_key": "Master data"},
        "objectives": [{"kpi": "cost"}],
        "sampler": "random",
        "seed": 5,
    }
    return out | extra


def test_a_median_pruner_prunes_the_bad_trials_and_the_budget_holds(client: TestClient) -> None:
    # Five good points first (the median pruner waits for five complete trials),
    # then two bad ones; the sampler asks the rest.
    points = [{"x": x} for x in (0.0, 0.1, 0.2, 0.3, 0.4, 0.9, 0.8)]
    answer = client.post(
        f"{M}/studies",
        json=body(pruner="median", n_trials=10, warm_start={"points": points}),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["pruner"] == "median"
    study_id = answer.json()["id"]
    study = wait_for(
        lambda: client.get(f"{M}/studies/{study_id}").json(),
        lambda s: s["status"] == "complete",
        timeout=120,
    )
    counts = study["counts"]
    assert study["ended_by"] == "trials"
    assert counts["budgeted"] == counts["total"] == 10
    assert counts["running"] == counts["failed"] == 0
    assert counts["complete"] + counts["pruned"] == 10
    assert counts["pruned"] >= 2
    frame = client.get(f"{M}/studies/{study_id}/trials").json()
    trials = pd.DataFrame(frame["rows"], columns=frame["columns"])
    assert list(trials["number"]) == list(range(10))
    pruned = trials[trials["state"] == "pruned"]
    assert {5, 6} <= set(pruned["number"])
    assert (trials[trials["x"] > 0.5]["state"] == "pruned").all()
    for scenario_id in pruned["scenario_id"]:
        scenario = client.get(f"{M}/scenarios/{scenario_id}").json()
        assert scenario["pruned"] is True
        assert scenario["error"].startswith("pruned at step ")
    # A pruned trial is never the best.
    assert study["best"]["state"] == "complete"
    assert study["best"]["params"]["x"] <= 0.5


def test_without_a_pruner_nothing_is_judged(client: TestClient) -> None:
    answer = client.post(f"{M}/studies", json=body(n_trials=4, space=[{"name": "x", "max": 0.5}]))
    assert answer.status_code == 201, answer.text
    assert answer.json()["pruner"] == "none"
    study_id = answer.json()["id"]
    study = wait_for(
        lambda: client.get(f"{M}/studies/{study_id}").json(),
        lambda s: s["status"] == "complete",
    )
    assert study["counts"]["complete"] == 4 and study["counts"]["pruned"] == 0


def test_a_pruner_on_several_objectives_is_refused_naming_why(client: TestClient) -> None:
    answer = client.post(
        f"{M}/studies",
        json=body(pruner="median", n_trials=4, objectives=[{"kpi": "cost"}, {"kpi": "spread"}]),
    )
    assert answer.status_code == 422, answer.text
    assert "single objective" in answer.text and "median" in answer.text
    unknown = client.post(f"{M}/studies", json=body(pruner="hyperband", n_trials=4))
    assert unknown.status_code == 422, unknown.text
    assert "pruner" in unknown.text
    assert client.get(f"{M}/studies").json() == []


def test_the_pruner_compares_with_the_finished_trials_replayed_values() -> None:
    spec: dict[str, Any] = {
        "sampler": "tpe",
        "seed": 1,
        "objectives": [{"kpi": "cost", "direction": "minimize"}],
        "constraints": [],
        "pruner": "median",
        "space": [
            {"key": "x", "type": "float", "low": 0.0, "high": 1.0, "log": False, "step": None}
        ],
    }
    done = [
        TrialRecord("s", n, "complete", "asked", {"x": n / 10}, values=[n], intermediate=[[0, n]])
        for n in range(5)
    ]
    running = TrialRecord("s", 5, "running", "asked", {"x": 0.9})
    assert search.to_prune(spec, [*done, running], {5: [(0, 9.0)]}) == {5: 0}
    assert search.to_prune(spec, [*done, running], {5: [(0, 1.0)]}) == {}
    # Without the finished trials' values there is nothing to compare with.
    bare = [dataclasses.replace(t, intermediate=[]) for t in done]
    assert search.to_prune(spec, [*bare, running], {5: [(0, 9.0)]}) == {}
    assert search.to_prune(spec | {"pruner": "none"}, [*done, running], {5: [(0, 9.0)]}) == {}


def test_the_client_and_the_command_line_pass_the_pruner(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from algomancy_api import client as client_module
    from algomancy_api.cli import app

    class InProcess(AlgomancyClient):
        def __init__(self, url: str | None, *, session: str | None, api_key: str | None):
            super().__init__("http://testserver", session=session, prefix=PREFIX, http=client)

        def close(self) -> None:  # the test's client stays open
            pass

    api = InProcess(None, session="main", api_key=None)
    made = api.create_study(
        "by-client",
        "Curve",
        "Master data",
        ["cost"],
        space=[{"name": "x", "max": 0.5}],  # good points: none holds
        pruner="median",
        n_trials=1,
    )
    assert made.pruner == "median"
    monkeypatch.setattr(client_module, "AlgomancyClient", InProcess)
    args = ["--url", "http://testserver", "--json", "study", "create", "by-cli"]
    args += ["--algorithm", "Curve", "--objective", "cost", "--n-trials", "1", "--space", "x=0:0.5"]
    done = CliRunner().invoke(app, [*args, "--pruner", "successive_halving"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["pruner"] == "successive_halving"
    for study_id in (made.id, json.loads(done.output)["id"]):
        ended = wait_for(lambda s=study_id: api.get_study(s), lambda s: s.status == "complete")
        assert ended.counts["budgeted"] == 1
