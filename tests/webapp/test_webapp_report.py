"""The HTML report in Chromium: it loads nothing from anywhere, draws its charts, and
prints readably."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Route

from algomancy_api import ApiLauncher
from tests.api.conftest import api_config
from tests.api.test_api_decisions import M, scenario
from tests.decisions_domain import decisions_config

#: Chromium.
pytestmark = pytest.mark.slow


def test_html_report_loads_nothing_from_outside(browser: Browser, tmp_path: Path) -> None:
    with TestClient(ApiLauncher.build(api_config(**decisions_config()))) as client:
        for n in range(12):
            scenario(client, f"s{n:02d}", profit=100 + n, cost=50 - n)
        r = client.get(f"{M}/report", params={"baseline": "s00", "format": "html"})
    assert r.status_code == 200
    file = tmp_path / "report.html"
    file.write_bytes(r.content)
    url = file.as_uri()

    requested: list[str] = []

    def guard(route: Route) -> None:
        if route.request.url != url:
            requested.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    context = browser.new_context(viewport={"width": 390, "height": 800})
    try:
        context.route("**/*", guard)
        page = context.new_page()
        page.goto(url)
        assert page.locator("svg").count() == 4
        assert page.locator("svg").first.get_attribute("role") == "img"
        assert page.get_by_role("heading", name="Lineage").is_visible()
        # Every bar of 12 scenarios is labelled in the chart.
        assert page.locator("svg").first.locator("text", has_text="s11").count() == 1
        page.emulate_media(media="print")
        assert page.locator("table").first.is_visible()
        pdf = page.pdf(format="A4", landscape=True)
        assert pdf.startswith(b"%PDF")
    finally:
        context.close()
    assert requested == []
