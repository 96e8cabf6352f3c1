"""The pages follow the session's event stream: what another client does (create,
run, delete scenarios through the HTTP API) shows up without a reload, and without
polling (one stream per page)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from tests.server import ServerProcess

from .test_webapp_workflow import API, create_and_run, open_app

pytestmark = pytest.mark.slow


class Requests:
    """The API requests a page sends."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        page.on("request", self.seen)

    def seen(self, request: Request) -> None:
        if "/api/v1/" in request.url:
            self.urls.append(request.url)

    def count(self, part: str) -> int:
        return sum(1 for url in self.urls if part in url)

    def session_streams(self) -> int:
        return sum(1 for url in self.urls if url.endswith("/events") and "/scenarios/" not in url)


def test_the_list_follows_another_clients_scenarios(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    requests = Requests(page)
    open_app(page, server, "scenarios")
    page.evaluate("window.__sameDocument = true")
    expect(page.get_by_role("heading", name="Scenarios (", exact=False)).to_be_visible()
    sid = create_and_run(server, "from elsewhere", "Slow", {"duration": 2})
    row = page.locator("tr[data-scenario='from elsewhere']")
    expect(row).to_have_count(1)
    expect(row.locator("[data-status]")).to_have_text("processing")
    expect(row.locator("[data-status]")).to_have_text("complete", timeout=30_000)
    expect(row.locator("td.num")).to_have_text("100%")
    shot = tmp_path / "live-list.png"
    page.screenshot(path=str(shot))
    if os.environ.get("KEEP_SCREENSHOT"):
        Path(os.environ["KEEP_SCREENSHOT"]).write_bytes(shot.read_bytes())
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    # One stream, and no polling of statuses while the scenario ran.
    assert requests.session_streams() == 1
    assert requests.count("/status") == 0
    assert requests.count("/scenarios?view=summary") <= 4
    assert httpx.delete(f"{server.base}{API}/scenarios/{sid}").status_code == 204
    expect(row).to_have_count(0)


def test_the_detail_follows_a_run_started_elsewhere(page: Page, server: ServerProcess) -> None:
    body = {"tag": "detail live", "dataset_key": "Master data", "algo_name": "ABC slotting"}
    sid = httpx.post(f"{server.base}{API}/scenarios", json=body).json()["id"]
    open_app(page, server, f"scenarios/{sid}")
    detail = page.get_by_test_id("scenario-detail")
    status = detail.get_by_test_id("live-status").locator("[data-status]")
    expect(status).to_have_text("created")
    assert httpx.post(f"{server.base}{API}/scenarios/{sid}/run").status_code == 202
    expect(status).to_have_text("complete", timeout=30_000)
    kpis = detail.get_by_role("table", name="KPIs")
    expect(kpis.locator("tr[data-kpi=throughput] td").first).not_to_have_text("\u2013")
    assert httpx.delete(f"{server.base}{API}/scenarios/{sid}").status_code == 204
    expect(detail.get_by_text("This scenario was deleted.")).to_be_visible()


def test_compare_offers_a_scenario_completed_elsewhere(page: Page, server: ServerProcess) -> None:
    open_app(page, server, "compare")
    picker = page.get_by_role("group", name="Scenarios to compare")
    expect(picker).to_be_visible()
    create_and_run(server, "compared live", "ABC slotting", {})
    expect(picker.get_by_label("compared live")).to_be_visible(timeout=30_000)
