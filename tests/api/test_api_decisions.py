"""Deciding between scenarios over HTTP: the pinned baseline, deltas and verdicts in
the KPI frame, acceptance rules."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from tests.decisions_domain import decisions_config
from tests.polling import scenario_status

from .conftest import PREFIX, ClientFactory
from .test_api_data import SCHEMA_FILE

M = f"{PREFIX}/sessions/main"


def scenario(client: TestClient, tag: str, *, run: bool = True, **params: Any) -> str:
    r = client.post(
        f"{M}/scenarios",
        json={
            "tag": tag,
            "dataset_key": "Master data",
            "algo_name": "Fixed",
            "algo_params": params,
        },
    )
    assert r.status_code == 201, r.text
    scenario_id: str = r.json()["id"]
    if run:
        assert client.post(f"{M}/scenarios/{scenario_id}/run").status_code == 202
        scenario_status(client.get, f"{M}/scenarios/{scenario_id}", {"complete", "failed"})
    return scenario_id


@pytest.fixture
def dclient(make_client: ClientFactory) -> TestClient:
    return make_client(**decisions_config())


def frame(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get(f"{M}/kpis/frame", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(body)
    return body


def rows_by_tag(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["scenario"]: row for row in body["rows"]}


# -- the pinned baseline ---------------------------------------------------------
def test_baseline_pin_show_unpin(dclient: TestClient) -> None:
    base = scenario(dclient, "base", run=False)
    other = scenario(dclient, "other", run=False)
    assert dclient.get(f"{M}/baseline").json() == {"scenario_id": None, "tag": None}
    r = dclient.put(f"{M}/baseline", json={"scenario_id": base})
    assert r.status_code == 200 and r.json() == {"scenario_id": base, "tag": "base"}
    assert dclient.get(f"{M}/baseline").json()["scenario_id"] == base
    listed = {s["tag"]: s["baseline"] for s in dclient.get(f"{M}/scenarios").json()}
    assert listed == {"base": True, "other": False}
    summary = dclient.get(f"{M}/scenarios", params={"view": "summary"}).json()
    assert {s["tag"]: s["baseline"] for s in summary} == {"base": True, "other": False}
    assert dclient.get(f"{M}/scenarios/{base}").json()["baseline"] is True
    assert dclient.get(f"{M}/scenarios/{other}").json()["baseline"] is False
    # A run request's answer says so too (read with the scenario).
    runs = {
        tag: dclient.post(f"{M}/scenarios/{sid}/run")
        for tag, sid in (("base", base), ("other", other))
    }
    assert {tag: (r.status_code, r.json()["baseline"]) for tag, r in runs.items()} == {
        "base": (202, True),
        "other": (202, False),
    }
    for sid in (base, other):
        scenario_status(dclient.get, f"{M}/scenarios/{sid}", {"complete"})
    # The pinned one cannot be deleted; the answer names it.
    r = dclient.delete(f"{M}/scenarios/{base}")
    assert r.status_code == 409 and "'base'" in r.json()["detail"]
    assert "baseline" in r.json()["detail"]
    assert dclient.delete(f"{M}/scenarios/{other}").status_code == 204
    # Unpinned, it can.
    r = dclient.delete(f"{M}/baseline")
    assert r.status_code == 200 and r.json()["scenario_id"] is None
    assert dclient.get(f"{M}/scenarios/{base}").json()["baseline"] is False
    assert dclient.delete(f"{M}/scenarios/{base}").status_code == 204


def test_baseline_errors(dclient: TestClient) -> None:
    r = dclient.put(f"{M}/baseline", json={"scenario_id": "nope"})
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    assert dclient.put(f"{M}/baseline", json={}).status_code == 422
    assert (
        dclient.put(f"{PREFIX}/sessions/nope/baseline", json={"scenario_id": "x"}).status_code
        == 404
    )
    # A scenario of another session is not found in this one.
    other = dclient.post(f"{PREFIX}/sessions", json={"display_name": "other"}).json()["session"]
    r = dclient.post(
        f"{PREFIX}/sessions/{other['id']}/scenarios",
        json={"tag": "x", "dataset_key": "Master data", "algo_name": "Fixed"},
    )
    assert dclient.put(f"{M}/baseline", json={"scenario_id": r.json()["id"]}).status_code == 404
    r = dclient.get(f"{M}/kpis/frame", params={"baseline": "pinned"})
    assert r.status_code == 409 and "no pinned baseline" in r.json()["detail"]


def test_session_delete_drops_the_pin(dclient: TestClient) -> None:
    made = dclient.post(f"{PREFIX}/sessions", json={"display_name": "temp"}).json()["session"]
    base = f"{PREFIX}/sessions/{made['id']}"
    r = dclient.post(
        f"{base}/scenarios", json={"tag": "x", "dataset_key": "Master data", "algo_name": "Fixed"}
    )
    assert dclient.put(f"{base}/baseline", json={"scenario_id": r.json()["id"]}).status_code == 200
    assert dclient.delete(base).status_code == 200
    assert dclient.get(f"{base}/baseline").status_code == 404


# -- deltas and verdicts -----------------------------------------------------------
def test_frame_without_baseline_keeps_its_columns(dclient: TestClient) -> None:
    scenario(dclient, "a")
    body = frame(dclient)
    assert body["columns"] == [
        "scenario",
        "algorithm",
        "dataset",
        "status",
        "profit",
        "cost",
        "service",
        "delay",
    ]
    assert body["source"]["context"]["ids"] and body["source"]["context"]["pinned_baseline"] is None


def test_deltas_and_verdicts_each_direction(dclient: TestClient) -> None:
    scenario(dclient, "base", profit=100, cost=50, service=0.95, delay=2)
    scenario(dclient, "better", profit=110, cost=40, service=0.85, delay=4)
    scenario(dclient, "worse", profit=90, cost=60, service=0.9, delay=3)
    scenario(dclient, "same", profit=100 * (1 + 1e-12), cost=50, service=0.95, delay=2)
    body = frame(dclient, baseline="base")
    rows = rows_by_tag(body)
    assert body["columns"][:5] == ["scenario", "algorithm", "dataset", "status", "baseline"]
    assert next(row["scenario"] for row in body["rows"]) == "base"
    assert rows["base"]["baseline"] is True and rows["better"]["baseline"] is False
    assert rows["better"]["profit.delta"] == pytest.approx(10)
    assert rows["better"]["profit.delta_rel"] == pytest.approx(0.1)
    assert rows["better"]["profit.verdict"] == "improved"
    assert rows["worse"]["profit.verdict"] == "worse"
    assert rows["better"]["cost.delta"] == pytest.approx(-10)
    assert rows["better"]["cost.delta_rel"] == pytest.approx(-0.2)
    assert rows["better"]["cost.verdict"] == "improved"  # lower is better
    assert rows["worse"]["cost.verdict"] == "worse"
    assert rows["same"]["profit.verdict"] == "equal" and rows["base"]["cost.verdict"] == "equal"
    # Thresholds: at_least 0.9 and at_most 3, whatever the baseline's value.
    assert rows["better"]["service.verdict"] == "fail"
    assert rows["worse"]["service.verdict"] == "pass"  # 0.9 is at least 0.9
    assert rows["better"]["delay.verdict"] == "fail"
    assert rows["worse"]["delay.verdict"] == "pass"  # 3 is at most 3
    assert rows["better"]["service.delta"] == pytest.approx(-0.1)
    context = body["source"]["context"]
    assert context["baseline"]["tag"] == "base" and context["tolerance"] == 1e-9
    visuals = body["meta"]["tableVisuals"]["columns"]
    assert visuals["profit.delta_rel"]["format"] == "percent"


def test_tolerance(dclient: TestClient) -> None:
    scenario(dclient, "base", profit=100)
    scenario(dclient, "near", profit=100.5)
    assert rows_by_tag(frame(dclient, baseline="base"))["near"]["profit.verdict"] == "improved"
    loose = rows_by_tag(frame(dclient, baseline="base", tolerance=0.01))
    assert loose["near"]["profit.verdict"] == "equal"
    assert dclient.get(f"{M}/kpis/frame", params={"tolerance": -1}).status_code == 422


def test_baseline_of_zero(dclient: TestClient) -> None:
    scenario(dclient, "zero", profit=0, cost=0)
    scenario(dclient, "up", profit=5, cost=0)
    rows = rows_by_tag(frame(dclient, baseline="zero"))
    assert rows["up"]["profit.delta"] == 5 and rows["up"]["profit.delta_rel"] is None
    assert rows["up"]["profit.verdict"] == "improved"
    assert rows["up"]["cost.delta"] == 0 and rows["up"]["cost.delta_rel"] is None
    assert rows["up"]["cost.verdict"] == "equal"


def test_missing_values_and_failed_scenarios(dclient: TestClient) -> None:
    scenario(dclient, "base")
    scenario(dclient, "idle", run=False)
    scenario(dclient, "broken", fail=True)
    rows = rows_by_tag(frame(dclient, baseline="base"))
    for tag in ("idle", "broken"):
        for kpi in ("profit", "cost", "service", "delay"):
            assert rows[tag][kpi] is None
            assert rows[tag][f"{kpi}.delta"] is None and rows[tag][f"{kpi}.delta_rel"] is None
            assert rows[tag][f"{kpi}.verdict"] == "missing"
    assert rows["broken"]["status"] == "failed"
    # A baseline without values: every verdict is missing.
    rows = rows_by_tag(frame(dclient, baseline="broken"))
    assert (
        rows["base"]["profit.verdict"] == "missing" and rows["base"]["service.verdict"] == "missing"
    )
    assert rows["base"]["profit.delta"] is None


def test_pinned_selection_and_diff_only(dclient: TestClient) -> None:
    base = scenario(dclient, "base", label="x")
    scenario(dclient, "b", profit=120, label="x")
    c = scenario(dclient, "c", profit=80, cost=70, label="y")
    dclient.put(f"{M}/baseline", json={"scenario_id": base})
    body = frame(dclient, baseline="pinned", ids=f"{c},b", diff_only="true")
    # The baseline first, then the selection in the order given.
    assert [row["scenario"] for row in body["rows"]] == ["base", "c", "b"]
    params = [c for c in body["columns"] if c.startswith("param.")]
    assert params == ["param.profit", "param.cost", "param.label"]
    assert rows_by_tag(body)["c"]["param.label"] == "y"
    everything = frame(dclient, parameters="true", ids=["b", "c"])
    assert "param.delay" in everything["columns"] and "profit.delta" not in everything["columns"]
    assert [row["scenario"] for row in everything["rows"]] == ["b", "c"]
    r = dclient.get(f"{M}/kpis/frame", params={"ids": "b,nope"})
    assert r.status_code == 404 and "'nope'" in r.json()["detail"]
    r = dclient.get(f"{M}/kpis/frame", params={"baseline": "nope"})
    assert r.status_code == 404


# -- acceptance --------------------------------------------------------------------
def test_acceptance_rules(dclient: TestClient) -> None:
    base = scenario(dclient, "base", profit=100, cost=50)
    scenario(dclient, "good", profit=110, cost=50.5)
    scenario(dclient, "bad", profit=99, cost=49)
    scenario(dclient, "idle", run=False)
    dclient.put(f"{M}/baseline", json={"scenario_id": base})
    rules = [
        {"kpi": "profit", "rule": "improves"},
        {"kpi": "cost", "rule": "not_worse", "tolerance": 0.02},
        {"kpi": "cost", "rule": "within", "tolerance": 0.6, "mode": "absolute"},
        {"kpi": "profit", "rule": "within", "tolerance": 0.05},
    ]
    r = dclient.post(
        f"{M}/acceptance", json={"candidates": ["good", "bad", "idle"], "rules": rules}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(body)
    assert body["columns"] == [
        "candidate",
        "id",
        "profit improves",
        "cost not_worse",
        "cost within 0.6 absolute",
        "profit within 0.05 relative",
        "overall",
    ]
    rows = {row["candidate"]: row for row in body["rows"]}
    assert rows["good"] | {"id": None} == {
        "candidate": "good",
        "id": None,
        "profit improves": "pass",
        "cost not_worse": "pass",  # 1 % worse, within 2 %
        "cost within 0.6 absolute": "pass",
        "profit within 0.05 relative": "fail",  # 10 % away
        "overall": "fail",
    }
    assert rows["bad"]["profit improves"] == "fail" and rows["bad"]["cost not_worse"] == "pass"
    assert rows["bad"]["cost within 0.6 absolute"] == "fail"
    assert rows["bad"]["profit within 0.05 relative"] == "pass"
    assert set(rows["idle"].values()) - {"idle", rows["idle"]["id"]} == {"missing"}
    assert body["source"]["context"]["baseline"]["tag"] == "base"
    passing = dclient.post(
        f"{M}/acceptance",
        json={"baseline": "base", "candidates": ["good"], "rules": rules[:3]},
    ).json()
    assert passing["rows"][0]["overall"] == "pass"


def test_acceptance_errors(dclient: TestClient) -> None:
    scenario(dclient, "a", run=False)
    rule = {"kpi": "profit", "rule": "improves"}
    r = dclient.post(f"{M}/acceptance", json={"candidates": ["a"], "rules": [rule]})
    assert r.status_code == 409  # nothing pinned
    r = dclient.post(
        f"{M}/acceptance",
        json={"baseline": "a", "candidates": ["a"], "rules": [{"kpi": "nope", "rule": "improves"}]},
    )
    assert r.status_code == 400 and "'nope'" in r.json()["detail"]
    r = dclient.post(
        f"{M}/acceptance", json={"baseline": "a", "candidates": ["zz"], "rules": [rule]}
    )
    assert r.status_code == 404 and "'zz'" in r.json()["detail"]
    bad_rule = {"kpi": "profit", "rule": "bigger"}
    r = dclient.post(
        f"{M}/acceptance", json={"baseline": "a", "candidates": ["a"], "rules": [bad_rule]}
    )
    assert r.status_code == 422
    r = dclient.post(f"{M}/acceptance", json={"baseline": "a", "candidates": [], "rules": [rule]})
    assert r.status_code == 422


def test_acceptance_of_an_experiments_scenarios(dclient: TestClient) -> None:
    scenario(dclient, "base", profit=100)
    experiment = {
        "name": "sweep",
        "base": {"algo_name": "Fixed", "dataset_key": "Master data"},
        "design": {"kind": "grid", "axes": [{"name": "profit", "values": [90.0, 110.0]}]},
    }
    made = dclient.post(f"{M}/experiments", json=experiment)
    assert made.status_code == 201, made.text
    for scenario_id in made.json()["scenario_ids"]:
        scenario_status(dclient.get, f"{M}/scenarios/{scenario_id}", {"complete", "failed"})
    rule = {"kpi": "profit", "rule": "improves"}
    body = {"baseline": "base", "experiment": made.json()["id"], "rules": [rule]}
    r = dclient.post(f"{M}/acceptance", json=body)
    assert r.status_code == 200, r.text
    overall = {row["candidate"]: row["overall"] for row in r.json()["rows"]}
    assert overall == {"sweep-1": "fail", "sweep-2": "pass"}
    r = dclient.post(f"{M}/acceptance", json=body | {"experiment": "nope"})
    assert r.status_code == 404 and "'nope'" in r.json()["detail"]
    r = dclient.post(f"{M}/acceptance", json=body | {"candidates": ["base"]})
    assert r.status_code == 422  # candidates or an experiment, not both


# -- the Python client ---------------------------------------------------------------
def test_client_compare_and_acceptance(dclient: TestClient) -> None:
    from algomancy_api import AlgomancyClient

    api = AlgomancyClient(http=dclient)
    base = scenario(dclient, "base", profit=100)
    scenario(dclient, "up", profit=150)
    assert api.baseline() is None
    assert api.pin_baseline(base) == base and api.baseline() == base
    assert [s.baseline for s in api.scenarios()] == [True, False]
    plain = api.compare()
    assert list(plain.index) == ["base", "up"] and "profit.delta" not in plain.columns
    against = api.compare(["up"], baseline="pinned")
    assert list(against.index) == ["base", "up"]
    assert against.loc["up", "profit.delta"] == 50
    assert against.loc["up", "profit.delta_rel"] == pytest.approx(0.5)
    assert against.loc["up", "profit.verdict"] == "improved"
    assert bool(against.loc["base", "baseline"]) is True
    accepted = api.acceptance(["up"], [{"kpi": "profit", "rule": "improves"}])
    assert accepted.loc["up", "overall"] == "pass"
    api.unpin_baseline()
    assert api.baseline() is None


def test_a_copied_session_keeps_its_pin(dclient: TestClient) -> None:
    base = scenario(dclient, "base", run=False)
    dclient.put(f"{M}/baseline", json={"scenario_id": base})
    r = dclient.post(f"{M}/copy", json={"new_display_name": "copied"})
    copied = f"{PREFIX}/sessions/{r.json()['session']['id']}"
    pinned = dclient.get(f"{copied}/baseline").json()
    assert pinned["tag"] == "base" and pinned["scenario_id"] != base
    assert dclient.get(f"{copied}/scenarios/{pinned['scenario_id']}").json()["baseline"] is True


def test_async_client_decisions(dclient: TestClient) -> None:
    import asyncio

    import httpx

    from algomancy_api.client import AsyncAlgomancyClient

    base = scenario(dclient, "base", profit=100)
    scenario(dclient, "up", profit=90)

    async def drive() -> None:
        transport = httpx.ASGITransport(app=dclient.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            api = AsyncAlgomancyClient(http=http)
            assert await api.pin_baseline(base) == base
            assert await api.baseline() == base
            table = await api.compare(["up"], baseline="pinned", tolerance=0.2)
            assert table.loc["up", "profit.verdict"] == "equal"
            accepted = await api.acceptance(["up"], [{"kpi": "profit", "rule": "not_worse"}])
            assert accepted.loc["up", "overall"] == "fail"
            assert (await api.report(["up"], "base", "html")).startswith(b"<!DOCTYPE html>")
            await api.unpin_baseline()
            assert await api.baseline() is None

    asyncio.run(drive())
