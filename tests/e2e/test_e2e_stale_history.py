"""History stays readable after a deploy that changed the templates: a real server
restarted on the same SQLite state with a new configuration module."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.polling import scenario_status
from tests.server import ROOT, ServerProcess

#: Real server processes.
pytestmark = pytest.mark.slow

API = "/api/v1/sessions/main"

DOMAIN = """\
import pandas as pd

from algomancy_api import ApiConfiguration
from algomancy_core import (
    BaseAlgorithm, BaseKPI, BaseParameterSet, BaseResult, IntegerParameter, KpiDirection,
)
from algomancy_data import DataSource


class CountParameters(BaseParameterSet):
    n = IntegerParameter(default=1, min=0, max={max})


class TunedParameters(CountParameters):
{extra}

class Counter(BaseAlgorithm):
    name = "Counter"
    parameters = CountParameters

    def run(self, data, ctx):
        return BaseResult({{"n": self.params.n}})


class Tuned(Counter):
    name = "Tuned"
    parameters = TunedParameters


class Retired(Counter):
    name = "Retired"


class Total(BaseKPI):
    name = "total"
    unit = "items"
    direction = KpiDirection.HIGHER

    def compute(self, result):
        return float(result.values["n"])


class Double(Total):
    name = "double"

    def compute(self, result):
        return 2.0 * result.values["n"]


def data():
    return {{"Master data": DataSource("Master data", tables={{"t": pd.DataFrame({{"a": [1]}})}})}}


cfg = ApiConfiguration(
    algorithms=[{algorithms}],
    kpis=[{kpis}],
    initial_datasets=data,
    has_persistent_state=True,
    data_path="state",
)
"""

BEFORE = DOMAIN.format(
    max=100,
    extra="    extra = IntegerParameter(default=0, min=0, max=5)",
    algorithms="Counter, Tuned, Retired",
    kpis="Total, Double",
)
AFTER = DOMAIN.format(max=10, extra="    pass", algorithms="Counter, Tuned", kpis="Total")


def start(folder: Path) -> ServerProcess:
    env = {"PYTHONPATH": f"{ROOT}:{folder}"}
    return ServerProcess(["--config", "domain:cfg"], folder, env=env).start()


def create(api: httpx.Client, tag: str, algo: str, params: dict[str, Any]) -> str:
    body = {"tag": tag, "dataset_key": "Master data", "algo_name": algo, "algo_params": params}
    r = api.post(f"{API}/scenarios", json=body)
    assert r.status_code == 201, r.text
    scenario_id: str = r.json()["id"]
    return scenario_id


def run(api: httpx.Client, scenario_id: str) -> dict[str, Any]:
    r = api.post(f"{API}/scenarios/{scenario_id}/run")
    assert r.status_code == 202, r.text
    return scenario_status(api.get, f"{API}/scenarios/{scenario_id}", {"complete", "failed"})


def parameters(scenario: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: p for p in scenario["algorithm"]["parameters"]}


def test_history_stays_readable_after_the_templates_change(tmp_path: Path) -> None:
    (tmp_path / "domain.py").write_text(textwrap.dedent(BEFORE))
    server = start(tmp_path)
    try:
        with httpx.Client(base_url=server.base, timeout=30) as api:
            big = create(api, "big", "Counter", {"n": 50})
            assert run(api, big)["status"] == "complete"
            extra = create(api, "extra", "Tuned", {"n": 1, "extra": 3})
            retired = create(api, "retired", "Retired", {"n": 2})
            fits = create(api, "fits", "Counter", {"n": 5})
            before = {s["id"]: s for s in api.get(f"{API}/scenarios").json()}
            assert not any(s["stale"] for s in before.values())
            assert before[big]["kpis"]["double"]["value"] == 100.0
    finally:
        server.stop()

    # The deploy: n's bound shrinks; Tuned's `extra`, `Retired` and the `double` KPI
    # are gone.
    (tmp_path / "domain.py").write_text(textwrap.dedent(AFTER))
    server = start(tmp_path)
    try:
        with httpx.Client(base_url=server.base, timeout=30) as api:
            listed = api.get(f"{API}/scenarios")
            assert listed.status_code == 200, listed.text
            after = {s["id"]: s for s in listed.json()}
            assert after.keys() == before.keys()

            # What was stored is shown as stored, and the stale ones say why.
            assert after[big]["stale"] is True
            assert after[big]["stale_reason"] == (
                "parameters no longer fit: n: must be an integer between 0 and 10, got 50"
            )
            assert parameters(after[big])["n"] == parameters(before[big])["n"] | {
                "value": 50,
                "max": 10,
            }
            assert after[big]["status"] == "complete"
            assert after[big]["result"] == before[big]["result"]
            assert after[big]["kpis"]["total"] == before[big]["kpis"]["total"]
            assert "double" not in after[big]["kpis"]

            assert after[extra]["stale"] is True
            assert after[extra]["stale_reason"] == (
                "parameters no longer fit: extra: no longer a parameter of 'Tuned'"
            )
            assert parameters(after[extra])["extra"] == {"name": "extra", "value": 3}

            assert after[retired]["stale"] is True
            assert "'Retired' is no longer available" in after[retired]["stale_reason"]
            assert after[retired]["algorithm"] == {
                "name": "Retired",
                "parameters": [{"name": "n", "value": 2}],
            }

            assert after[fits]["stale"] is False and after[fits]["stale_reason"] is None

            # Each one reads on its own too; the KPI comparison still answers.
            for scenario_id, scenario in after.items():
                one = api.get(f"{API}/scenarios/{scenario_id}")
                assert one.status_code == 200 and one.json() == scenario
            assert api.get(f"{API}/kpis/frame").status_code == 200

            # Running a stale scenario is a conflict naming what no longer fits.
            for scenario_id, word in [(big, "n:"), (extra, "extra"), (retired, "Retired")]:
                r = api.post(f"{API}/scenarios/{scenario_id}/run")
                assert r.status_code == 409, r.text
                assert word in r.json()["detail"] and "cannot run" in r.json()["detail"]
                assert api.get(f"{API}/scenarios/{scenario_id}").json() == after[scenario_id]

            # One that still fits runs under the new configuration.
            done = run(api, fits)
            assert done["status"] == "complete"
            ran = api.get(f"{API}/scenarios/{fits}").json()
            assert ran["kpis"]["total"]["value"] == 5.0 and set(ran["kpis"]) == {"total"}
    finally:
        server.stop()
