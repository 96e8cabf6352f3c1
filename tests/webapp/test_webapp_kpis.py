"""KPI values in Chromium: a quantity in the unit that reads best, a binary KPI as
pass or fail with its details, on the scenario page and in compare."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.server import ServerProcess

from .conftest import screenshot
from .test_webapp_views import complete_scenario

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cwd = tmp_path_factory.mktemp("webapp-kpis")
    with ServerProcess(["--config", "tests.webapp.domain:with_binary", "--in-memory"], cwd) as s:
        yield s


def test_quantities_and_binary_kpis_read_well(page: Page, server: ServerProcess) -> None:
    abc = complete_scenario(server, "kpi abc", "ABC slotting")
    complete_scenario(server, "kpi as-is", "Slow")
    page.goto(f"{server.base}/#/sessions/main/scenarios/{abc}")
    kpis = page.get_by_test_id("scenario-detail").get_by_role("table", name="KPIs")
    travel = kpis.locator("tr[data-kpi=travel_distance] td").first
    expect(travel).to_have_text("46.06 km/day")
    expect(travel.locator("[data-raw]")).to_have_attribute("title", "46,063.22 m/day")
    placed = kpis.locator("tr[data-kpi=all_placed] td").first
    expect(placed).to_contain_text("✓ pass")
    expect(placed).to_contain_text("0 SKUs in the overflow area")

    page.goto(f"{server.base}/#/sessions/main/compare")
    page.get_by_label("Filter by tag").fill("kpi")
    page.get_by_role("checkbox", name="kpi abc").check()
    page.get_by_role("checkbox", name="kpi as-is").check()
    table = page.get_by_role("table", name="KPI comparison")
    row = table.locator("tr[data-kpi=all_placed]")
    expect(row.locator("td").nth(3)).to_contain_text("pass")
    expect(row.locator("td").nth(4)).to_contain_text("✗ fail")
    expect(row.locator("td").nth(4)).to_contain_text("4 SKUs in the overflow area")
    expect(row.locator("td").nth(4)).to_have_attribute("data-breach", "true")
    expect(table.locator("tr[data-kpi=travel_distance]")).to_contain_text("km/day")
    # No bar chart for a pass/fail KPI.
    expect(page.locator("figure[data-chart=all_placed]")).to_have_count(0)
    expect(page.locator("figure[data-chart=travel_distance]")).to_have_count(1)
    table.scroll_into_view_if_needed()
    screenshot(page, "compare-binary-kpi")
