"""A result view drawn by the domain's own ES module (served from its package at
/app/modules/...), on the scenario page and the compare page, under the CSP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.server import ServerProcess

from .test_webapp_views import complete_scenario, select_only

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cwd = tmp_path_factory.mktemp("webapp-module")
    with ServerProcess(["--config", "tests.webapp.domain:with_module", "--in-memory"], cwd) as s:
        yield s


def test_a_module_view_draws_itself(page: Page, server: ServerProcess) -> None:
    module = httpx.get(f"{server.base}/app/modules/tests.webapp/result_module.js")
    assert module.status_code == 200
    assert module.headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{server.base}/app/modules/tests.webapp/domain.py").status_code == 404
    scenario_id = complete_scenario(server, "mod abc", "ABC slotting")
    page.goto(f"{server.base}/#/sessions/main/scenarios/{scenario_id}")
    views = page.get_by_test_id("result-views")
    views.get_by_label("View").select_option(label="Closest SKUs")
    figure = views.locator('[data-view="closest-skus"]')
    expect(figure).to_contain_text("placed SKUs of mod abc (table assignment)")
    expect(figure.get_by_test_id("closest-skus").locator("li")).to_have_count(5)
    # Back to a chart: the module's drawing is undone.
    views.get_by_label("View").select_option(label="Pick travel by location")
    expect(page.get_by_test_id("closest-skus")).to_have_count(0)

    complete_scenario(server, "mod two", "ABC slotting")
    page.goto(f"{server.base}/#/sessions/main/compare")
    select_only(page, "mod")
    compare = page.get_by_test_id("compare-views")
    compare.get_by_label("View").select_option(label="Closest SKUs")
    expect(compare.get_by_test_id("closest-skus")).to_have_count(2)
