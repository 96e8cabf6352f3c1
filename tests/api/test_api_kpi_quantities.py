"""KPIs over HTTP: a quantity's `display`, a binary KPI's pass/fail and details, in
the scenario, the KPI descriptions and the KPI frame; plain KPIs keep their shape."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from algomancy_core import BaseKPI, BaseResult, BinaryKPI, ConfigurationError, KpiDirection
from tests.core.conftest import Total

from .conftest import PREFIX, ClientFactory, api_config
from .test_api_scenarios import poll

M = f"{PREFIX}/sessions/main"


class Walked(BaseKPI):
    name = "walked"
    unit = "m"
    quantity = "length"
    direction = KpiDirection.LOWER

    def compute(self, result: BaseResult) -> float:
        return float(result.values["total"]) * 1000


class Enough(BinaryKPI):
    name = "enough"

    def check(self, result: BaseResult) -> tuple[bool, str]:
        total = result.values["total"]
        return total >= 10, f"total {total}, needs 10"


def run(client: TestClient, tag: str) -> dict:
    body = {"tag": tag, "dataset_key": "Master data", "algo_name": "Instant"}
    scenario_id = client.post(f"{M}/scenarios", json=body).json()["id"]
    client.post(f"{M}/scenarios/{scenario_id}/run")
    assert poll(client, scenario_id)["status"] == "complete"
    scenario: dict = client.get(f"{M}/scenarios/{scenario_id}").json()
    return scenario


def test_quantity_and_binary_kpis_in_the_scenario(make_client: ClientFactory) -> None:
    client = make_client(kpis=[Total, Walked, Enough])
    created = client.post(
        f"{M}/scenarios", json={"tag": "new", "dataset_key": "Master data", "algo_name": "Instant"}
    ).json()
    assert created["kpis"]["walked"]["display"] is None
    assert created["kpis"]["enough"]["passed"] is None
    kpis = run(client, "t")["kpis"]
    total = kpis["total"]["value"]
    # A plain KPI keeps exactly the reference's keys.
    assert set(kpis["total"]) == {"name", "value", "unit", "better_when", "threshold"}
    assert kpis["walked"]["value"] == total * 1000 and kpis["walked"]["unit"] == "m"
    assert kpis["walked"]["display"] == {
        "value": float(total),
        "unit": "km",
        "text": f"{total:g} km",
    }
    assert kpis["enough"] == {
        "name": "enough",
        "value": 1.0 if total >= 10 else 0.0,
        "unit": "",
        "better_when": "at_least",
        "threshold": 1.0,
        "kind": "binary",
        "passed": total >= 10,
        "details": f"total {total:g}, needs 10",
    }
    summary = client.get(f"{M}/scenarios?view=summary").json()
    listed = summary[-1] if isinstance(summary, list) else summary["scenarios"][-1]
    assert listed["kpis"]["enough"]["details"] == f"total {total:g}, needs 10"


def test_kpi_descriptions_and_frame_name_quantities_and_binary_kpis(
    make_client: ClientFactory,
) -> None:
    client = make_client(kpis=[Total, Walked, Enough])
    run(client, "t")
    described = {k["name"]: k for k in client.get(f"{M}/kpis/describe").json()}
    assert "quantity" not in described["total"] and "kind" not in described["total"]
    assert described["walked"]["quantity"] == "length"
    assert described["enough"]["kind"] == "binary"
    frame = client.get(f"{M}/kpis/frame").json()
    assert frame["columns"][-3:] == ["walked", "enough", "enough details"]
    assert frame["rows"][0]["enough details"].startswith("total ")
    context = frame["source"]["context"]
    assert context["quantities"] == {"walked": "length"} and context["binary"] == ["enough"]


def test_the_details_key_is_no_kpi_name() -> None:
    class Reserved(Total):
        name = "__details__"

    with pytest.raises(ConfigurationError, match="reserved"):
        api_config(kpis=[Reserved])


def test_details_survive_the_sqlite_store(make_client: ClientFactory, tmp_path: object) -> None:
    state = str(tmp_path)
    client = make_client(kpis=[Total, Enough], has_persistent_state=True, data_path=state)
    first = run(client, "kept")
    client.__exit__(None, None, None)
    again = make_client(kpis=[Total, Enough], has_persistent_state=True, data_path=state)
    scenario = again.get(f"{M}/scenarios/{first['id']}").json()
    assert scenario["kpis"]["enough"]["details"] == first["kpis"]["enough"]["details"]
    assert scenario["kpis"]["enough"]["details"] is not None
