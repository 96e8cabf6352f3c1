"""Result views: declared on algorithms, listed and drawn over HTTP."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from algomancy_api.resultviews import HEAT, chart_config, heat_colour
from algomancy_core import BaseResult, ConfigurationError, CoreConfig, ResultView, RunContext
from algomancy_core.views import view_points
from algomancy_data import DataSource
from tests.core.conftest import Instant, items

from .conftest import PREFIX, ClientFactory
from .test_api_scenarios import poll

M = f"{PREFIX}/sessions/main"

HEAT_VIEW = ResultView(
    "heat", "Heat", kind="heatmap", table="grid", encoding={"x": "a", "y": "b", "value": "v"}
)
BARS = ResultView(
    "bars", "Bars", kind="bar", table="grid", encoding={"x": "a", "y": "v", "series": "b"}
)
BROKEN = ResultView("broken", "Broken", kind="bar", table="grid", encoding={"x": "a", "y": "zz"})
ELSEWHERE = ResultView("elsewhere", "Elsewhere", table="nope", encoding={"x": "a", "y": "v"})


class Gridded(Instant):
    name = "Gridded"
    views = [HEAT_VIEW, BARS, BROKEN, ELSEWHERE]

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        grid = pd.DataFrame({"a": [1, 1, 2, 2, 2], "b": ["x", "y", "x", "y", "y"]})
        grid["v"] = [1.0, 2.0, 3.0, 4.0, 6.0]
        return BaseResult({"total": 1, "count": 1}, tables={"grid": grid})


def completed(client: TestClient) -> str:
    body = {"tag": "g", "dataset_key": "Master data", "algo_name": "Gridded"}
    scenario_id: str = client.post(f"{M}/scenarios", json=body).json()["id"]
    client.post(f"{M}/scenarios/{scenario_id}/run")
    assert poll(client, scenario_id)["status"] == "complete"
    return scenario_id


def test_an_algorithm_lists_its_views(make_client: ClientFactory) -> None:
    client = make_client(algorithms=[Instant, Gridded])
    body = client.get(f"{M}/algorithms/Gridded/views").json()
    assert body["name"] == "Gridded"
    assert [v["name"] for v in body["views"]] == ["heat", "bars", "broken", "elsewhere"]
    assert body["views"][0] == {
        "name": "heat",
        "title": "Heat",
        "kind": "heatmap",
        "table": "grid",
        "encoding": {"x": "a", "y": "b", "value": "v"},
        "aggregate": "sum",
        "unit": "",
        "description": "",
        "module": None,
        "module_url": None,
    }
    assert client.get(f"{M}/algorithms/Instant/views").json() == {"name": "Instant", "views": []}
    assert client.get(f"{M}/algorithms/nope/views").status_code == 404


def test_a_heat_map_sums_rows_per_cell_and_colours_them(make_client: ClientFactory) -> None:
    client = make_client(algorithms=[Instant, Gridded])
    scenario_id = completed(client)
    body = client.get(f"{M}/scenarios/{scenario_id}/result/views/heat").json()
    assert body["scenario"] == {"id": scenario_id, "tag": "g"}
    assert body["points"] == [
        {"x": 1, "y": "x", "value": 1.0},
        {"x": 1, "y": "y", "value": 2.0},
        {"x": 2, "y": "x", "value": 3.0},
        {"x": 2, "y": "y", "value": 10.0},
    ]
    assert body["truncated"] is False
    chart = body["chart"]
    assert chart["type"] == "scatter"
    dataset = chart["data"]["datasets"][0]
    assert dataset["data"][3] == {"x": 2, "y": "y", "v": 10.0}
    assert dataset["backgroundColor"][0] == HEAT[0] and dataset["backgroundColor"][3] == HEAT[-1]
    assert chart["options"]["scales"]["x"]["type"] == "linear"
    assert chart["options"]["scales"]["y"] == {
        "title": {"display": True, "text": "b"},
        "type": "category",
        "labels": ["x", "y"],
        "offset": True,
    }
    assert chart["scale"] == {"min": 1.0, "max": 10.0, "colours": list(HEAT), "unit": ""}


def test_a_bar_view_has_one_dataset_per_series(make_client: ClientFactory) -> None:
    client = make_client(algorithms=[Instant, Gridded])
    scenario_id = completed(client)
    chart = client.get(f"{M}/scenarios/{scenario_id}/result/views/bars").json()["chart"]
    assert chart["type"] == "bar" and chart["data"]["labels"] == ["1", "2"]
    assert [(d["label"], d["data"]) for d in chart["data"]["datasets"]] == [
        ("x", [1.0, 3.0]),
        ("y", [2.0, 10.0]),
    ]


def test_view_errors_name_what_is_wrong(make_client: ClientFactory) -> None:
    client = make_client(algorithms=[Instant, Gridded])
    body = {"tag": "early", "dataset_key": "Master data", "algo_name": "Gridded"}
    early = client.post(f"{M}/scenarios", json=body).json()["id"]
    r = client.get(f"{M}/scenarios/{early}/result/views/heat")
    assert r.status_code == 409 and "not complete" in r.json()["detail"]
    scenario_id = completed(client)
    views = f"{M}/scenarios/{scenario_id}/result/views"
    r = client.get(f"{views}/nope")
    assert r.status_code == 404 and "no result view 'nope'" in r.json()["detail"]
    r = client.get(f"{views}/broken")
    assert r.status_code == 409 and "column 'zz'" in r.json()["detail"]
    r = client.get(f"{views}/elsewhere")
    assert r.status_code == 404 and "result table 'nope'" in r.json()["detail"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "a b", "title": "t", "table": "t", "encoding": {"x": "a", "y": "b"}}, "name"),
        ({"name": "v", "title": "t", "kind": "pie", "table": "t"}, "kind"),
        ({"name": "v", "title": "t", "encoding": {"x": "a", "y": "b"}}, "no result table"),
        ({"name": "v", "title": "t", "table": "t", "encoding": {"x": "a"}}, "'y'"),
        ({"name": "v", "title": "t", "table": "t", "encoding": {"z": "a"}}, "channel 'z'"),
        (
            {
                "name": "v",
                "title": "t",
                "table": "t",
                "encoding": {"x": "a", "y": "b"},
                "aggregate": "x",
            },
            "aggregate",
        ),
    ],
)
def test_a_wrong_view_is_refused_naming_the_field(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ResultView(**arguments)


def test_views_of_an_algorithm_are_checked_by_the_configuration() -> None:
    class Twice(Instant):
        name = "Twice"
        views = [HEAT_VIEW, HEAT_VIEW]

    with pytest.raises(ConfigurationError, match="'heat' twice"):
        CoreConfig(algorithms=[Twice], initial_datasets=lambda: {"d": items()})


def test_heat_colours_run_from_low_to_high() -> None:
    assert heat_colour(0.0) == HEAT[0] and heat_colour(1.0) == HEAT[-1]
    assert heat_colour(0.5) == HEAT[1] and heat_colour(-3) == HEAT[0]
    empty = chart_config(HEAT_VIEW, [])
    assert empty["data"]["datasets"][0]["data"] == []


def test_categories_dates_and_gaps_become_json_points() -> None:
    frame = pd.DataFrame(
        {
            "family": pd.Categorical(["a", "b", "a", "c"], categories=["a", "b", "c", "unused"]),
            "day": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01", None]),
            "qty": [1.0, float("nan"), 2.0, 4.0],
        }
    )
    tables = DataSource("r", tables={"t": frame})
    bars = ResultView("f", "F", table="t", encoding={"x": "family", "y": "qty"})
    assert view_points(bars, tables)["points"] == [
        {"x": "a", "y": 3.0},
        {"x": "b", "y": 0.0},
        {"x": "c", "y": 4.0},
    ]
    counted = ResultView("d", "D", table="t", encoding={"x": "day", "y": "qty"}, aggregate="count")
    points = view_points(counted, tables)["points"]
    assert points[0] == {"x": "2024-01-01 00:00:00", "y": 2}
    raw = ResultView(
        "r", "R", kind="scatter", table="t", encoding={"x": "qty", "y": "qty"}, aggregate="none"
    )
    assert view_points(raw, tables)["points"][1] == {"x": None, "y": None}


def test_a_module_view_names_a_file_of_its_package(make_client: ClientFactory) -> None:
    class Drawn(Gridded):
        name = "Drawn"
        views = [ResultView("own", "Own", kind="module", table="grid", module="tests.api:own.js")]

    with pytest.raises(ConfigurationError, match=r"no file 'own\.js' in package 'tests\.api'"):
        CoreConfig(algorithms=[Drawn], initial_datasets=lambda: {"d": items()})

    class Elsewhere(Gridded):
        name = "Elsewhere"
        views = [ResultView("own", "Own", kind="module", table="grid", module="no_such_pkg:a.js")]

    with pytest.raises(ConfigurationError, match="in package 'no_such_pkg'"):
        CoreConfig(algorithms=[Elsewhere], initial_datasets=lambda: {"d": items()})

    class Served(Gridded):
        name = "Served"
        views = [
            ResultView(
                "own", "Own", kind="module", table="grid", module="tests.webapp:result_module.js"
            )
        ]

    client = make_client(algorithms=[Instant, Served])
    described = client.get(f"{M}/algorithms/Served/views").json()["views"][0]
    assert described["module"] == "tests.webapp:result_module.js"
    assert described["module_url"] == "/app/modules/tests.webapp/result_module.js"
    served = client.get(described["module_url"])
    assert served.status_code == 200 and b"export default" in served.content
    assert client.get("/app/modules/tests.webapp/domain.py").status_code == 404
    body = {"tag": "s", "dataset_key": "Master data", "algo_name": "Served"}
    scenario_id = client.post(f"{M}/scenarios", json=body).json()["id"]
    client.post(f"{M}/scenarios/{scenario_id}/run")
    assert poll(client, scenario_id)["status"] == "complete"
    r = client.get(f"{M}/scenarios/{scenario_id}/result/views/own")
    assert r.status_code == 409 and "drawn by its module" in r.json()["detail"]
