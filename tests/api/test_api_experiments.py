"""Experiments through HTTP, on the memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
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
from algomancy_core.parameters import DateParameter, EnumParameter
from algomancy_data import DataSource
from tests.api.conftest import PREFIX, api_config
from tests.fixtures import TABULAR_FRAME_V1_SCHEMA, fixture_file
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import wait_for

M = f"{PREFIX}/sessions/main"


class KnobParameters(BaseParameterSet):
    speed = FloatParameter(default=5.0, min=0.0, max=10.0)
    crews = IntegerParameter(default=2, min=1, max=4)
    inert = FloatParameter(default=0.5, min=0.0, max=1.0)
    mode = EnumParameter(choices=["slow", "fast"], default="slow")


class GrowthParameters(BaseParameterSet):
    growth = FloatParameter(default=1.0, min=0.5, max=2.0)


class GrowthData(DataSource):
    def data_parameter_set(self) -> GrowthParameters:
        return GrowthParameters()


class Knobs(BaseAlgorithm):
    """cost = 3 * speed + crews (+ 1 when fast), times the data's growth; `inert` is ignored."""

    name = "Knobs"
    parameters = KnobParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        p = self.params
        growth = float(data.data_parameters.get("growth", 1.0))
        cost = (3 * p.speed + p.crews + (1 if p.mode == "fast" else 0)) * growth
        return BaseResult({"cost": cost})


class DatedParameters(BaseParameterSet):
    start = DateParameter(default="2026-01-01", min="2026-01-01", max="2026-12-31")
    rate = FloatParameter(default=1.0, min=0.01, max=100.0)
    seed = IntegerParameter(default=0, min=0, max=2**31 - 1)


class Dated(BaseAlgorithm):
    """cost = rate + the start's day of the year (1 on 1 January) + seed % 7."""

    name = "Dated"
    parameters = DatedParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        p = self.params
        return BaseResult({"cost": p.rate + p.start.timetuple().tm_yday + p.seed % 7})


RELEASE = threading.Event()
FAIL = threading.Event()


class Flaky(Knobs):
    """Knobs that fails with 3 crews or more while the test's `FAIL` is set."""

    name = "Flaky"

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        if FAIL.is_set() and self.params.crews >= 3:
            raise RuntimeError("flaky")
        return super().run(data, ctx)


class Held(Knobs):
    """Knobs that waits for the test's `RELEASE`, reporting progress (so it stops
    when cancelled)."""

    name = "Held"

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        while not RELEASE.wait(0.01):
            ctx.progress(0.5, "held")
        return super().run(data, ctx)


class Cost(BaseKPI):
    name = "cost"
    unit = "EUR"
    direction = KpiDirection.LOWER

    def compute(self, result: BaseResult) -> float:
        return float(result.values["cost"])


def growth_data() -> DataSource:
    return GrowthData("Master data", tables={"items": pd.DataFrame({"qty": [1, 2, 3]})})


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    values: dict[str, Any] = {
        "algorithms": [Knobs, Held, Dated, Flaky],
        "kpis": [Cost],
        "initial_datasets": lambda: {"Master data": growth_data()},
        "data_object_type": GrowthData,
        "max_experiment_scenarios": 50,
    }
    if request.param == "postgres":
        config = api_config(database_url=request.getfixturevalue("postgres_url"), **values)
    elif request.param == "sqlite":
        config = api_config(has_persistent_state=True, data_path=str(tmp_path / "s"), **values)
    else:
        config = api_config(**values)
    with TestClient(ApiLauncher.build(config), raise_server_exceptions=False) as test_client:
        yield test_client


BASE = {"algo_name": "Knobs", "dataset_key": "Master data", "algo_params": {"speed": 4.0}}


def create(client: TestClient, name: str, design: dict[str, Any], **extra: Any) -> Any:
    return client.post(
        f"{M}/experiments", json={"name": name, "base": BASE, "design": design, **extra}
    )


def finished(client: TestClient, experiment_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any]:
        body: dict[str, Any] = client.get(f"{M}/experiments/{experiment_id}").json()
        return body

    return wait_for(probe, lambda b: b["status"] == "complete", what="the experiment to finish")


def scenarios(client: TestClient) -> dict[str, dict[str, Any]]:
    """Tag → `{"algo_params", "data_params", "kpis" (values), "status"}`."""
    return {
        s["tag"]: {
            "algo_params": {p["name"]: p["value"] for p in s["algorithm"]["parameters"]},
            "data_params": s["data_parameters"],
            "kpis": {name: k["value"] for name, k in s["kpis"].items()},
            "status": s["status"],
        }
        for s in client.get(f"{M}/scenarios").json()
    }


def test_a_grid_creates_one_scenario_per_point_and_reads_back(client: TestClient) -> None:
    design = {
        "kind": "grid",
        "axes": [{"name": "crews", "values": [1, 3]}, {"name": "mode"}],
    }
    answer = create(client, "grid", design)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["counts"]["planned"] == 4 and body["counts"]["created"] == 4
    assert body["counts"]["reused"] == 0
    assert body["axes"] == ["crews", "mode"]
    done = finished(client, body["id"])
    assert done["counts"]["complete"] == 4
    tags = scenarios(client)
    points = [
        (tags[f"grid-{n}"]["algo_params"]["crews"], tags[f"grid-{n}"]["algo_params"]["mode"])
        for n in range(1, 5)
    ]
    assert points == [(1, "slow"), (1, "fast"), (3, "slow"), (3, "fast")]
    assert all(tags[f"grid-{n}"]["algo_params"]["speed"] == 4.0 for n in range(1, 5))
    listed = client.get(f"{M}/experiments").json()
    assert [e["name"] for e in listed] == ["grid"]


def test_data_parameters_are_axes_with_their_declared_range(client: TestClient) -> None:
    design = {"kind": "oat", "axes": [{"name": "growth", "on": "data"}]}
    body = create(client, "growth", design).json()
    assert body["axes"] == ["data.growth"]
    finished(client, body["id"])
    tags = scenarios(client)
    assert [tags[f"growth-{n}"]["data_params"]["growth"] for n in (1, 2, 3)] == [1.0, 0.5, 2.0]
    assert [tags[f"growth-{n}"]["kpis"]["cost"] for n in (1, 2, 3)] == [14.0, 7.0, 28.0]


def test_sampled_designs_are_seeded_and_bounded_by_the_descriptor(client: TestClient) -> None:
    design = {"kind": "lhs", "n": 8, "seed": 5, "axes": [{"name": "speed"}, {"name": "crews"}]}
    body = create(client, "lhs", design).json()
    finished(client, body["id"])
    tags = scenarios(client)
    speeds = [tags[f"lhs-{n}"]["algo_params"]["speed"] for n in range(1, 9)]
    assert sorted(int(s / 10 * 8) for s in speeds) == list(range(8))  # one per stratum
    assert {tags[f"lhs-{n}"]["algo_params"]["crews"] for n in range(1, 9)} <= {1, 2, 3, 4}
    random = create(client, "rnd", design | {"kind": "random"}).json()
    assert random["counts"]["planned"] == 8
    finished(client, random["id"])


def test_the_cap_is_refused_naming_the_count_before_anything_is_created(
    client: TestClient,
) -> None:
    before = len(client.get(f"{M}/scenarios").json())
    big = {"kind": "random", "n": 51, "axes": [{"name": "speed"}]}
    answer = create(client, "big", big)
    assert answer.status_code == 400
    assert "51 points" in answer.json()["detail"]
    assert "max_scenarios 50" in answer.json()["detail"]
    lowered = create(client, "small", big | {"n": 5}, max_scenarios=4)
    assert lowered.status_code == 400 and "5 points" in lowered.json()["detail"]
    bad = create(client, "bad", {"kind": "grid", "axes": [{"name": "crews", "values": [1, 9]}]})
    assert bad.status_code == 400 and "crews" in bad.json()["detail"]
    empty = create(client, "empty", {"kind": "grid", "axes": [{"name": "crews", "values": []}]})
    assert empty.json()["detail"] == "axis 'crews': values must be a non-empty list"
    unknown = create(client, "unk", {"kind": "grid", "axes": [{"name": "nope", "values": [1]}]})
    assert unknown.status_code == 400 and "nope" in unknown.json()["detail"]
    assert len(client.get(f"{M}/scenarios").json()) == before
    assert client.get(f"{M}/experiments").json() == []


def test_a_taken_tag_or_a_name_too_long_for_the_tags_creates_nothing(
    client: TestClient,
) -> None:
    taken = {"tag": "clash-2", "dataset_key": "Master data", "algo_name": "Knobs"}
    assert client.post(f"{M}/scenarios", json=taken).status_code == 201
    design = {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2, 3]}]}
    clash = create(client, "clash", design)
    assert clash.status_code == 409 and "'clash-2'" in clash.json()["detail"]
    long = create(client, "x" * 199, design)
    assert long.status_code == 400 and "max_name_chars" in long.json()["detail"]
    wide = [{"name": "crews"}, {"name": "speed", "values": [v / 2 for v in range(20)]}]
    huge = create(client, "huge", {"kind": "grid", "axes": wide})
    assert huge.status_code == 400 and "80 points" in huge.json()["detail"]
    assert list(scenarios(client)) == ["clash-2"]
    assert client.get(f"{M}/experiments").json() == []


def test_a_taken_name_is_409(client: TestClient) -> None:
    design = {"kind": "grid", "axes": [{"name": "crews", "values": [1]}]}
    first = create(client, "twice", design)
    assert first.status_code == 201
    assert create(client, "twice", design).status_code == 409
    finished(client, first.json()["id"])


def test_the_frame_has_a_row_per_point_with_parameters_kpis_and_status(
    client: TestClient,
) -> None:
    design = {"kind": "grid", "axes": [{"name": "speed", "values": [1.0, 2.0, 3.0]}]}
    body = create(client, "frame", design).json()
    finished(client, body["id"])
    frame = client.get(f"{M}/experiments/{body['id']}/frame").json()
    schema = json.loads(fixture_file(TABULAR_FRAME_V1_SCHEMA).read_text())
    assert [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(frame)] == []
    assert frame["columns"] == ["point", "scenario_id", "status", "speed", "cost"]
    tags = scenarios(client)
    assert [(r["point"], r["speed"], r["status"], r["cost"]) for r in frame["rows"]] == [
        (n, speed, "complete", tags[f"frame-{n}"]["kpis"]["cost"])
        for n, speed in ((1, 1.0), (2, 2.0), (3, 3.0))
    ]
    assert [r["cost"] for r in frame["rows"]] == [5.0, 8.0, 11.0]
    page = client.get(f"{M}/experiments/{body['id']}/frame?offset=1&limit=1").json()
    assert [r["point"] for r in page["rows"]] == [2]


def test_one_at_a_time_sensitivity_ranks_the_inert_knob_last(client: TestClient) -> None:
    design = {
        "kind": "oat",
        "axes": [{"name": "inert"}, {"name": "crews"}, {"name": "speed"}],
    }
    body = create(client, "tornado", design).json()
    assert body["counts"]["planned"] == 7
    finished(client, body["id"])
    rows = client.get(f"{M}/experiments/{body['id']}/sensitivity?kpi=cost").json()
    assert [r["parameter"] for r in rows] == ["speed", "crews", "inert"]
    speed = rows[0]
    assert (speed["low_value"], speed["high_value"]) == (0.0, 10.0)
    assert (speed["base_kpi"], speed["low_delta"], speed["high_delta"]) == (14.0, -12.0, 18.0)
    assert rows[2]["swing"] == 0.0
    missing = client.get(f"{M}/experiments/{body['id']}/sensitivity?kpi=nope")
    assert missing.status_code == 404
    grid = create(client, "g", {"kind": "grid", "axes": [{"name": "crews", "values": [1]}]})
    wrong = client.get(f"{M}/experiments/{grid.json()['id']}/sensitivity?kpi=cost")
    assert wrong.status_code == 409 and "one-at-a-time" in wrong.json()["detail"]
    finished(client, grid.json()["id"])


def test_delete_keeps_or_deletes_the_scenarios(client: TestClient) -> None:
    design = {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2]}]}
    keep = create(client, "keep", design).json()
    gone = create(client, "gone", design).json()
    finished(client, keep["id"])
    finished(client, gone["id"])
    assert client.delete(f"{M}/experiments/{keep['id']}").status_code == 204
    assert client.delete(f"{M}/experiments/{gone['id']}?scenarios=delete").status_code == 204
    assert sorted(scenarios(client)) == ["keep-1", "keep-2"]
    assert client.get(f"{M}/experiments/{keep['id']}").status_code == 404
    assert client.delete(f"{M}/experiments/{keep['id']}").status_code == 404


def test_cancel_fails_the_points_not_yet_run(client: TestClient) -> None:
    RELEASE.clear()
    try:
        design = {"kind": "random", "n": 10, "seed": 1, "axes": [{"name": "speed"}]}
        answer = client.post(
            f"{M}/experiments",
            json={"name": "stop", "base": BASE | {"algo_name": "Held"}, "design": design},
        )
        body = answer.json()
        wait_for(
            lambda: client.get(f"{M}/experiments/{body['id']}").json()["counts"],
            lambda c: c["processing"] == 2,  # both workers: the points run in parallel
            what="two points processing",
        )
        answer = client.post(f"{M}/experiments/{body['id']}/cancel")
        assert answer.status_code == 200
        assert answer.json()["status"] == "cancelled"
        done = wait_for(
            lambda: client.get(f"{M}/experiments/{body['id']}").json()["counts"],
            lambda c: c["queued"] == 0 and c["processing"] == 0,
            what="no point left to run",
        )
    finally:
        RELEASE.set()
    assert done["failed"] == 10 and done["complete"] == 0
    assert {s["status"] for s in scenarios(client).values()} == {"failed"}
    # No point started after the cancel: only the two that were running had.
    listed = client.get(f"{M}/scenarios").json()
    assert sum(1 for s in listed if s["started_at"] is not None) == 2
    assert client.post(f"{M}/experiments/nope/cancel").status_code == 404


def test_points_already_run_are_reused_not_run_again(client: TestClient) -> None:
    first = create(client, "a", {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2]}]})
    finished(client, first.json()["id"])
    wider = {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2, 3]}]}
    second = create(client, "b", wider).json()
    assert (second["counts"]["planned"], second["counts"]["reused"]) == (3, 2)
    assert second["counts"]["created"] == 1
    finished(client, second["id"])
    listed = client.get(f"{M}/scenarios").json()
    assert sorted(s["tag"] for s in listed) == ["a-1", "a-2", "b-3"]
    prints = [s["fingerprint"] for s in listed]
    assert None not in prints and len(set(prints)) == len(prints)  # nothing ran twice
    frame = client.get(f"{M}/experiments/{second['id']}/frame").json()
    assert [(r["crews"], r["status"], r["cost"]) for r in frame["rows"]] == [
        (1, "complete", 13.0),
        (2, "complete", 14.0),
        (3, "complete", 15.0),
    ]
    assert client.delete(f"{M}/experiments/{second['id']}?scenarios=delete").status_code == 204
    assert sorted(scenarios(client)) == ["a-1", "a-2"]  # the reused ones are not its own


def test_morris_ranks_the_inert_knob_last(client: TestClient) -> None:
    axes = [{"name": "inert"}, {"name": "crews"}, {"name": "speed"}]
    design = {"kind": "morris", "n": 4, "seed": 3, "axes": axes}
    body = create(client, "morris", design).json()
    assert body["counts"]["planned"] == 4 * (3 + 1)
    finished(client, body["id"])
    tags = scenarios(client)
    again = create(client, "morris-again", design).json()  # the same points: all reused
    assert again["counts"]["reused"] == 16 and again["counts"]["created"] == 0
    frame = client.get(f"{M}/experiments/{again['id']}/frame").json()
    assert [(r["inert"], r["crews"], r["speed"]) for r in frame["rows"]] == [
        tuple(tags[f"morris-{n}"]["algo_params"][k] for k in ("inert", "crews", "speed"))
        for n in range(1, 17)
    ]
    rows = client.get(f"{M}/experiments/{body['id']}/sensitivity?kpi=cost").json()
    assert [r["parameter"] for r in rows] == ["speed", "crews", "inert"]
    assert rows[0]["mu_star"] == pytest.approx(30.0)  # 3 EUR per unit of speed, over 0..10
    assert rows[2]["mu_star"] == 0.0 and rows[2]["sigma"] == 0.0
    assert set(rows[0]) == {"parameter", "mu_star", "mu_star_conf", "mu", "sigma"}


def test_sobol_indices_put_speed_first_and_the_inert_knob_at_zero(client: TestClient) -> None:
    axes = [{"name": "inert"}, {"name": "speed"}, {"name": "crews"}]
    design = {"kind": "sobol", "n": 8, "seed": 1, "axes": axes}
    body = create(client, "sobol", design).json()
    assert body["counts"]["planned"] == 8 * (3 + 2)
    finished(client, body["id"])
    rows = client.get(f"{M}/experiments/{body['id']}/sensitivity?kpi=cost").json()
    assert rows[0]["parameter"] == "speed" and rows[-1]["parameter"] == "inert"
    inert = rows[-1]
    assert (inert["S1"], inert["ST"]) == (0.0, 0.0)
    assert rows[0]["ST"] > 0.8 and rows[0]["S1_conf"] >= 0
    bad = create(client, "sobol6", design | {"n": 6})
    assert bad.status_code == 400 and "power of 2" in bad.json()["detail"]


def test_indices_wait_for_every_point(client: TestClient) -> None:
    RELEASE.clear()
    try:
        design = {"kind": "morris", "n": 2, "seed": 0, "axes": [{"name": "speed"}]}
        body = client.post(
            f"{M}/experiments",
            json={"name": "held", "base": BASE | {"algo_name": "Held"}, "design": design},
        ).json()
        early = client.get(f"{M}/experiments/{body['id']}/sensitivity?kpi=cost")
        assert early.status_code == 409 and "4 points" in early.json()["detail"]
    finally:
        RELEASE.set()
    finished(client, body["id"])


def dated(client: TestClient, name: str, design: dict[str, Any]) -> Any:
    base = {"algo_name": "Dated", "dataset_key": "Master data"}
    return client.post(f"{M}/experiments", json={"name": name, "base": base, "design": design})


def test_date_and_log_scaled_axes(client: TestClient) -> None:
    dates = {"name": "start", "min": "2026-02-27", "max": "2026-03-02"}
    body = dated(client, "days", {"kind": "grid", "axes": [dates]}).json()
    assert body["counts"]["planned"] == 4  # each day of the range
    finished(client, body["id"])
    frame = client.get(f"{M}/experiments/{body['id']}/frame").json()
    assert [(r["start"], r["cost"]) for r in frame["rows"]] == [
        ("2026-02-27", 59.0),
        ("2026-02-28", 60.0),
        ("2026-03-01", 61.0),
        ("2026-03-02", 62.0),
    ]
    log = {"name": "rate", "min": 0.01, "max": 100.0, "scale": "log"}
    body = dated(client, "log", {"kind": "lhs", "n": 4, "seed": 2, "axes": [log]}).json()
    finished(client, body["id"])
    rates = [r["rate"] for r in client.get(f"{M}/experiments/{body['id']}/frame").json()["rows"]]
    # One point per decade: 0.01-0.1, 0.1-1, 1-10, 10-100.
    assert sorted(math.floor(math.log10(r)) for r in rates) == [-2, -1, 0, 1]
    zero = {"kind": "lhs", "n": 2, "axes": [{"name": "speed", "scale": "log"}]}  # from 0
    bad = create(client, "bad", zero)
    assert bad.status_code == 400 and "log scale" in bad.json()["detail"]
    late = dated(client, "late", {"kind": "grid", "axes": [dates | {"max": "2027-01-01"}]})
    assert late.status_code == 400 and "start" in late.json()["detail"]


def test_repetitions_record_distinct_seeds(client: TestClient) -> None:
    axis = {"name": "rate", "values": [1.0, 2.0]}
    design = {"kind": "grid", "axes": [axis], "repetitions": 3, "seed": 4}
    own = dated(client, "reps", design | {"seed_parameter": "seed"}).json()
    assert own["counts"]["planned"] == 6 and own["axes"] == ["rate", "seed"]
    finished(client, own["id"])
    rows = client.get(f"{M}/experiments/{own['id']}/frame").json()["rows"]
    assert [r["rate"] for r in rows] == [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
    seeds = [r["seed"] for r in rows]
    assert len(set(seeds[:3])) == 3 and seeds[:3] == seeds[3:]
    tags = scenarios(client)
    assert [tags[f"reps-{n}"]["algo_params"]["seed"] for n in range(1, 7)] == seeds
    assert [r["cost"] for r in rows] == [r["rate"] + 1 + r["seed"] % 7 for r in rows]
    # Without a seed parameter the seeds are the scenarios' own (their lineage).
    run = dated(client, "runs", design | {"seed": 5}).json()
    assert run["axes"] == ["rate", "run.seed"]
    finished(client, run["id"])
    rows = client.get(f"{M}/experiments/{run['id']}/frame").json()["rows"]
    listed = {s["id"]: s for s in client.get(f"{M}/scenarios").json()}
    assert [listed[r["scenario_id"]]["lineage"]["seed"] for r in rows] == [
        r["run.seed"] for r in rows
    ]
    assert len({r["run.seed"] for r in rows}) == 3
    oat = dated(client, "oat", {"kind": "oat", "axes": [axis], "repetitions": 2})
    assert oat.status_code == 400 and "repetitions" in oat.json()["detail"]


def test_excluded_combinations_are_not_planned(client: TestClient) -> None:
    axes = [{"name": "crews", "values": [1, 2, 3]}, {"name": "mode"}]
    exclude = [{"crews": 1, "mode": "fast"}, {"crews": 3}]
    body = create(client, "ex", {"kind": "grid", "axes": axes, "exclude": exclude}).json()
    assert body["counts"]["planned"] == 3
    finished(client, body["id"])
    frame = client.get(f"{M}/experiments/{body['id']}/frame").json()
    assert [(r["crews"], r["mode"]) for r in frame["rows"]] == [
        (1, "slow"),
        (2, "slow"),
        (2, "fast"),
    ]
    unknown = create(client, "ex2", {"kind": "grid", "axes": axes, "exclude": [{"speed": 1}]})
    assert unknown.status_code == 400 and "speed" in unknown.json()["detail"]
    design = {"kind": "grid", "axes": axes, "exclude": [{"mode": "slow"}, {"mode": "fast"}]}
    empty = create(client, "ex3", design)
    assert empty.status_code == 400 and "no point" in empty.json()["detail"]


def test_resume_runs_only_the_points_not_complete(client: TestClient) -> None:
    FAIL.set()
    try:
        design = {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2, 3, 4]}]}
        body = client.post(
            f"{M}/experiments",
            json={"name": "again", "base": BASE | {"algo_name": "Flaky"}, "design": design},
        ).json()
        stopped = finished(client, body["id"])["counts"]
    finally:
        FAIL.clear()
    assert (stopped["complete"], stopped["failed"]) == (2, 2)  # crews 3 and 4 failed
    url = f"{M}/experiments/{body['id']}"
    assert client.post(f"{url}/cancel").json()["status"] == "cancelled"
    listed = {s["tag"]: s for s in client.get(f"{M}/scenarios").json()}
    first_run = {listed[t]["id"]: listed[t]["finished_at"] for t in ("again-1", "again-2")}
    # A deleted point gets its scenario again.
    assert client.delete(f"{M}/scenarios/{listed['again-4']['id']}").status_code == 204
    assert client.get(url).json()["counts"]["missing"] == 1
    answer = client.post(f"{url}/resume")
    assert answer.status_code == 200 and answer.json()["status"] != "cancelled"
    done = finished(client, body["id"])
    assert done["counts"]["complete"] == 4 and done["counts"]["missing"] == 0
    listed = {s["id"]: s for s in client.get(f"{M}/scenarios").json()}
    assert {i: listed[i]["finished_at"] for i in first_run} == first_run  # not run again
    assert sorted(s["tag"] for s in listed.values()) == [f"again-{n}" for n in (1, 2, 3, 4)]
    frame = client.get(f"{url}/frame").json()
    assert [(r["crews"], r["cost"]) for r in frame["rows"]] == [
        (1, 13.0),
        (2, 14.0),
        (3, 15.0),
        (4, 16.0),
    ]
    again = client.post(f"{url}/resume").json()
    assert again["counts"]["queued"] == 0 and again["counts"]["complete"] == 4
    assert client.post(f"{M}/experiments/nope/resume").status_code == 404


def test_patch_drops_points_not_yet_run(client: TestClient) -> None:
    RELEASE.clear()
    try:
        design = {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2, 3, 4]}]}
        body = client.post(
            f"{M}/experiments",
            json={"name": "trim", "base": BASE | {"algo_name": "Held"}, "design": design},
        ).json()
        wait_for(
            lambda: client.get(f"{M}/experiments/{body['id']}").json()["counts"],
            lambda c: c["processing"] == 2,  # points 1 and 2, one per worker
            what="two points processing",
        )
        url = f"{M}/experiments/{body['id']}"
        busy = client.patch(url, json={"drop_points": [2]})
        assert busy.status_code == 409 and "point 2" in busy.json()["detail"]
        patched = client.patch(url, json={"drop_points": [3], "drop_values": {"crews": [4]}})
        assert patched.status_code == 200, patched.text
        counts = patched.json()["counts"]
        assert (counts["planned"], counts["dropped"]) == (2, 2)
        assert client.patch(url, json={"drop_values": {"nope": [1]}}).status_code == 400
        assert client.patch(url, json={"drop_points": [9]}).status_code == 400
    finally:
        RELEASE.set()
    finished(client, body["id"])
    assert sorted(scenarios(client)) == ["trim-1", "trim-2"]
    frame = client.get(f"{url}/frame").json()
    assert [(r["point"], r["crews"], r["status"]) for r in frame["rows"]] == [
        (1, 1, "complete"),
        (2, 2, "complete"),
    ]
    oat = create(client, "o", {"kind": "oat", "axes": [{"name": "crews"}]}).json()
    refused = client.patch(f"{M}/experiments/{oat['id']}", json={"drop_points": [2]})
    assert refused.status_code == 409
    finished(client, oat["id"])


def test_resume_makes_a_deleted_reused_point_its_own(client: TestClient) -> None:
    first = create(client, "a", {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2]}]})
    finished(client, first.json()["id"])
    wider = {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2, 3]}]}
    second = create(client, "b", wider).json()
    finished(client, second["id"])
    a1 = scenarios(client)["a-1"]
    listed = {s["tag"]: s["id"] for s in client.get(f"{M}/scenarios").json()}
    assert client.delete(f"{M}/scenarios/{listed['a-1']}").status_code == 204
    resumed = client.post(f"{M}/experiments/{second['id']}/resume").json()
    assert (resumed["counts"]["reused"], resumed["counts"]["created"]) == (1, 2)
    finished(client, second["id"])
    assert scenarios(client)["b-1"]["kpis"] == a1["kpis"]
    assert client.delete(f"{M}/experiments/{second['id']}?scenarios=delete").status_code == 204
    assert sorted(scenarios(client)) == ["a-2"]


def test_points_run_in_parallel_and_a_run_of_the_session_goes_first(client: TestClient) -> None:
    """An experiment's points run on every worker at once; `GET /processing` still
    reports only the session's own run; a run the user starts meanwhile is the
    next to start, before the points still queued."""
    RELEASE.clear()
    try:
        design = {"kind": "grid", "axes": [{"name": "crews", "values": [1, 2, 3, 4]}]}
        body = client.post(
            f"{M}/experiments",
            json={"name": "wide", "base": BASE | {"algo_name": "Held"}, "design": design},
        ).json()
        wait_for(
            lambda: client.get(f"{M}/experiments/{body['id']}").json()["counts"],
            lambda c: c["processing"] == 2,  # max_workers 2: both busy with points
            what="two points processing at once",
        )
        answer = client.get(f"{M}/processing")
        assert answer.status_code == 200 and answer.json() is None
        own = {"tag": "mine", "dataset_key": "Master data", "algo_name": "Knobs"}
        made = client.post(f"{M}/scenarios", json=own).json()
        assert client.post(f"{M}/scenarios/{made['id']}/run").status_code == 202
    finally:
        RELEASE.set()
    finished(client, body["id"])
    wait_for(
        lambda: client.get(f"{M}/scenarios/{made['id']}").json(),
        lambda s: s["status"] == "complete",
        what="the session's own run",
    )
    started = {
        s["tag"]: datetime.fromisoformat(s["started_at"])
        for s in client.get(f"{M}/scenarios").json()
    }
    assert started["mine"] < min(started["wide-3"], started["wide-4"])
    assert max(started["wide-1"], started["wide-2"]) < started["mine"]
