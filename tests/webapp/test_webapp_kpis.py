"""KPI values in Chromium: a quantity in the unit that reads best, a binary KPI as
pass or fail with its details, on the scenario page and in compare."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.server import ServerProcess

from .conftest import screenshot
from .test_webapp_views import complete_scenario, select_only

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
    select_only(page, "kpi")
    table = page.get_by_role("table", name="Scenario comparison")
    passed = table.locator("tr[data-scenario='kpi abc']")
    failed = table.locator("tr[data-scenario='kpi as-is']")
    expect(passed).to_contain_text("✓ pass")
    expect(failed).to_contain_text("✗ fail")
    expect(failed).to_contain_text("4 SKUs in the overflow area")
    expect(failed.locator("td[data-breach=true]", has_text="✗ fail")).to_have_count(1)
    expect(passed).to_contain_text("km/day")
    # No bar chart for a pass/fail KPI.
    expect(page.locator("figure[data-chart=all_placed]")).to_have_count(0)
    expect(page.locator("figure[data-chart=travel_distance]")).to_have_count(1)
    table.scroll_into_view_if_needed()
    screenshot(page, "compare-binary-kpi")
