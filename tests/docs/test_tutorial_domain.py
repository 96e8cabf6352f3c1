"""The tutorial's bakery (docs/tutorial/bakery), served as its page says,
``algomancy-api serve --config bakery.api:config``, and driven over HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest

from algomancy_api.client import AlgomancyClient
from tests.docs.blocks import DOCS
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

TUTORIAL = DOCS / "tutorial"
FILES = TUTORIAL / "files"


@pytest.fixture(scope="module")
def bakery(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # A copy, so that neither the server's log nor its state lands in docs/.
    folder = tmp_path_factory.mktemp("bakery") / "tutorial"
    shutil.copytree(TUTORIAL, folder, ignore=shutil.ignore_patterns("__pycache__"))
    with ServerProcess(["--config", "bakery.api:config", "--in-memory"], folder) as server:
        yield server


@pytest.fixture
def api(bakery: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{bakery.base}/api/v1/sessions/main", timeout=60) as http:
        yield http
        for scenario in http.get("/scenarios").json():
            http.delete(f"/scenarios/{scenario['id']}")


def upload(api: httpx.Client, name: str, files: dict[str, bytes]) -> dict:
    answer = api.post(
        "/etl",
        data={"dataset_name": name},
        files=[("files", (filename, data, "text/csv")) for filename, data in files.items()],
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def sample(name: str) -> bytes:
    return (FILES / name).read_bytes()


def test_the_etl_builds_a_dataset_with_the_demand_table(api: httpx.Client) -> None:
    done = upload(api, "today", {n: sample(n) for n in ("products.csv", "orders.csv")})
    assert done["success"] is True and "today" in done["keys"]
    tables = {t["name"]: t["rows"] for t in api.get("/data/today/tables").json()["tables"]}
    assert tables == {"products": 5, "orders": 12, "demand": 5}
    frame = api.get("/data/today/tables/demand/frame").json()
    demand = {row["product"]: row["quantity"] for row in frame["rows"]}
    assert demand == {
        "apple_cake": 20,
        "baguette": 196,
        "croissant": 320,
        "raisin_bun": 240,
        "sourdough": 130,
    }


def test_the_etl_refuses_unknown_products_and_bad_quantities(api: httpx.Client) -> None:
    orders = b"order,product,quantity\n1,brioche,10\n2,baguette,-5\n"
    done = upload(api, "broken", {"products.csv": sample("products.csv"), "orders.csv": orders})
    assert done["success"] is False and "broken" not in done["keys"]
    codes = {(m["code"], m["column"], m["row"]) for m in done["messages"]}
    assert codes == {("unknown_product", "product", None), ("not_positive", "quantity", 2)}
    alone = upload(api, "alone", {"orders.csv": sample("orders.csv")})
    assert alone["success"] is False
    assert any("products.csv" in m["message"] for m in alone["messages"])


def test_parameters_and_data_parameters_are_described_and_checked(api: httpx.Client) -> None:
    upload(api, "today", {n: sample(n) for n in ("products.csv", "orders.csv")})
    described = api.get("/algorithms/Oven plan/parameters").json()["parameters"]
    assert [(p["name"], p["type"], p.get("min"), p.get("max")) for p in described] == [
        ("ovens", "integer", 1, 6),
        ("shift_hours", "float", 1.0, 12.0),
        ("priority", "enum", None, None),
    ]
    data = api.get("/data/today/parameters").json()["parameters"]
    assert [(p["name"], p["default"], p["min"], p["max"]) for p in data] == [
        ("demand_factor", 1.0, 0.5, 3.0)
    ]
    body = {"tag": "x", "dataset_key": "today", "algo_name": "Oven plan"}
    bad = api.post("/scenarios", json=body | {"algo_params": {"ovens": 9}})
    assert bad.status_code == 400 and bad.json()["parameter"] == "ovens"
    bad = api.post("/scenarios", json=body | {"data_params": {"demand_factor": 5}})
    assert bad.status_code == 400 and "demand_factor" in bad.json()["detail"]


def test_plans_give_the_kpis_the_page_shows(api: httpx.Client, bakery: ServerProcess) -> None:
    upload(api, "today", {n: sample(n) for n in ("products.csv", "orders.csv")})
    with AlgomancyClient(bakery.base) as client:
        runs = {
            "two": client.create_scenario("two", "today", "Oven plan"),
            "three": client.create_scenario("three", "today", "Oven plan", {"ovens": 3}),
            "saturday": client.create_scenario(
                "saturday", "today", "Oven plan", {"ovens": 3}, {"demand_factor": 1.5}
            ),
        }
        done = {}
        for tag, scenario in runs.items():
            client.run(scenario.id)
            done[tag] = client.wait(scenario.id, progress=False, timeout=120)
        kpis = {tag: {k: v.value for k, v in s.kpis.items()} for tag, s in done.items()}
        assert all(s.status == "complete" for s in done.values())
        assert kpis["two"]["fill_rate"] == pytest.approx(86.09, abs=0.01)
        assert kpis["three"]["fill_rate"] == pytest.approx(96.69, abs=0.01)
        assert kpis["three"]["margin"] == pytest.approx(736.4)
        assert kpis["saturday"]["fill_rate"] < kpis["three"]["fill_rate"]
        assert done["saturday"].result and done["saturday"].result["demand_units"] == 1359.0
        tables = client.result_tables(runs["three"].id)
        assert [(t.name, t.columns) for t in tables] == [
            ("plan", ["oven", "start_min", "end_min", "product", "units"])
        ]
        plan = client.result_frame(runs["three"].id, "plan").to_pandas()
        assert plan["units"].sum() >= 876 and set(plan["oven"]) == {1, 2, 3}
        assert all(plan["end_min"] <= 6 * 60)
        described = {k.name: k for k in client.describe_kpis()}
        assert (described["fill_rate"].better_when, described["fill_rate"].threshold) == (
            "at_least",
            95,
        )
