"""Result views in Chromium: the example's heat map on the scenario page and on the
compare page, drawn by Chart.js on a canvas from the server's configuration."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.polling import wait_for
from tests.server import ServerProcess

from .conftest import screenshot

pytestmark = pytest.mark.slow

API = "/api/v1"


def complete_scenario(server: ServerProcess, tag: str, algorithm: str) -> str:
    base = f"{server.base}{API}/sessions/main/scenarios"
    body = {"tag": tag, "dataset_key": "Master data", "algo_name": algorithm}
    created = httpx.post(base, json=body)
    assert created.status_code == 201, created.text
    scenario_id: str = created.json()["id"]
    assert httpx.post(f"{base}/{scenario_id}/run").status_code == 202
    wait_for(
        lambda: httpx.get(f"{base}/{scenario_id}/status").json()["status"],
        lambda status: status == "complete",
        what=f"{tag} complete",
    )
    return scenario_id


def drawn_points(page: Page, view: str) -> Any:
    """The points Chart.js holds for the (first) canvas of `view`."""
    return page.evaluate(
        """(name) => {
          const canvas = document.querySelector(`[data-view="${name}"] canvas`);
          const chart = window.Chart.getChart(canvas);
          if (!chart) return null;
          const data = chart.data.datasets[0].data;
          const meta = chart.getDatasetMeta(0).data;
          return { count: data.length, first: data[0], drawn: meta.filter((p) => !p.skip).length,
                   width: canvas.width, height: canvas.height };
        }""",
        view,
    )


def test_the_example_heat_map_is_drawn_on_the_scenario_page(
    page: Page, server: ServerProcess
) -> None:
    scenario_id = complete_scenario(server, "heat abc", "ABC slotting")
    page.goto(f"{server.base}/#/sessions/main/scenarios/{scenario_id}")
    views = page.get_by_test_id("result-views")
    figure = views.locator('[data-view="travel-heatmap"]')
    expect(figure).to_be_visible()
    expect(figure).to_contain_text("Pick travel by location")
    # 8 aisles x 10 bays of the sample warehouse, each cell the sum of its levels.
    expect(figure).to_have_attribute("data-points", "80")
    points = wait_for(
        lambda: drawn_points(page, "travel-heatmap"),
        lambda p: p is not None and p["drawn"] == 80,
        what="the heat map drawn",
    )
    assert points["count"] == 80 and points["width"] > 0 and points["height"] > 0
    assert set(points["first"]) == {"x", "y", "v"}
    expect(views.locator(".heat-scale")).to_contain_text("m/day")
    # The other view of the example, picked from the list.
    views.get_by_label("View").select_option(label="Pick travel per aisle")
    expect(views.locator('[data-view="travel-by-aisle"]')).to_have_attribute("data-points", "8")
    views.get_by_label("View").select_option(label="Pick travel by location")
    expect(figure).to_be_visible()
    wait_for(
        lambda: drawn_points(page, "travel-heatmap"),
        lambda p: p is not None and p["drawn"] == 80,
        what="the heat map drawn again",
    )
    figure.scroll_into_view_if_needed()
    screenshot(page, "result-view-heatmap")


def test_a_view_is_picked_on_the_compare_page(page: Page, server: ServerProcess) -> None:
    complete_scenario(server, "cmp abc", "ABC slotting")
    complete_scenario(server, "cmp random", "Random slotting")
    page.goto(f"{server.base}/#/sessions/main/compare")
    select_only(page, "cmp")
    views = page.get_by_test_id("compare-views")
    views.get_by_label("View").select_option(label="Pick travel by location")
    figures = views.locator('[data-view="travel-heatmap"]')
    expect(figures).to_have_count(2)
    expect(figures.nth(0)).to_contain_text("cmp abc: Pick travel by location")
    expect(figures.nth(1)).to_contain_text("cmp random: Pick travel by location")
    wait_for(
        lambda: page.evaluate(
            """() => [...document.querySelectorAll('[data-view="travel-heatmap"] canvas')]
                 .map((c) => window.Chart.getChart(c)?.data.datasets[0].data.length ?? 0)"""
        ),
        lambda counts: counts == [80, 80],
        what="both heat maps drawn",
    )
    # One colour scale for both, so that a colour means the same travel in each.
    expect(views).to_contain_text("The heat maps share one colour scale")
    scales = views.locator(".heat-scale")
    expect(scales).to_have_count(2)
    assert scales.nth(0).inner_text() == scales.nth(1).inner_text()
    top = page.evaluate(
        """() => [...document.querySelectorAll('[data-view="travel-heatmap"] canvas')].map((c) => {
             const d = window.Chart.getChart(c).data.datasets[0];
             const i = d.data.reduce((best, p, j) => (p.v > d.data[best].v ? j : best), 0);
             return [d.data[i].v, d.backgroundColor[i]];
           })"""
    )
    # Only the larger of the two maxima gets the darkest colour.
    darkest = max(top)
    assert darkest[1] == "#bd0026" and min(top)[1] != "#bd0026"
    views.scroll_into_view_if_needed()
    screenshot(page, "compare-result-views")


def select_only(page: Page, text: str) -> None:
    """On the compare page: select exactly the scenarios whose tag has `text`."""
    table = page.get_by_role("table", name="Scenario comparison")
    expect(table).to_be_visible()
    everything = page.get_by_label("Select all shown")
    everything.check()
    everything.uncheck()
    page.get_by_label("Filter").fill(text)
    everything.check()
