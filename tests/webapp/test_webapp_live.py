"""The pages follow the session's event stream: what another client does (create,
run, delete scenarios; add, replace, delete datasets through the HTTP API) shows up
without a reload, and without polling (one stream per page)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from tests.server import ServerProcess

from .test_webapp_workflow import API, SAMPLES, create_and_run, open_app

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
    expect(page.get_by_role("region", name="Comparison options")).to_be_visible()
    create_and_run(server, "compared live", "ABC slotting", {})
    table = page.get_by_role("table", name="Scenario comparison")
    row = table.locator("tr[data-scenario='compared live']")
    expect(row).to_be_visible(timeout=30_000)
    expect(row).to_contain_text("complete", timeout=30_000)


def test_the_data_page_follows_another_clients_datasets(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    requests = Requests(page)
    open_app(page, server, "data")
    page.evaluate("window.__sameDocument = true")
    datasets = page.get_by_role("list", name="Datasets")
    expect(datasets.get_by_role("button", name="Master data", exact=True)).to_be_visible()
    data = f"{server.base}{API}/data"
    etl_route = f"{server.base}{API}/etl"
    # Added elsewhere (derived from master data): it appears in the list.
    derived = httpx.post(f"{data}/{quote('Master data')}/derive", json={"new_key": "live copy"})
    assert derived.status_code == 201, derived.text
    copy = datasets.get_by_role("button", name="live copy", exact=True)
    expect(copy).to_be_visible()
    # Replaced elsewhere while previewed: the preview reads the new version.
    copy.click()
    detail = page.get_by_role("region", name="Dataset: live copy")
    expect(detail.get_by_role("tablist", name="Tables of live copy")).to_be_visible()
    # Content that differs from the copy's (identical content adds no version).
    contents = {name: (SAMPLES / name).read_bytes() for name in ("sku_data.csv", "inventory.xlsx")}
    contents["sku_data.csv"] = contents["sku_data.csv"].replace(b"36.4", b"40.0", 1)
    files = [
        ("files", (name, content, "application/octet-stream")) for name, content in contents.items()
    ]
    etl = httpx.post(etl_route, data={"dataset_name": "live copy"}, files=files)
    assert etl.status_code == 200 and etl.json()["success"] is True, etl.text
    expect(detail.get_by_text('Dataset "live copy" was replaced')).to_be_visible()
    expect(detail.get_by_role("tablist", name="Tables of live copy")).to_be_visible()
    shot = tmp_path / "live-data.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("KEEP_SCREENSHOT"):
        Path(os.environ["KEEP_SCREENSHOT"]).write_bytes(shot.read_bytes())
    # Deleted elsewhere: it leaves the list, and the preview says so.
    assert httpx.delete(f"{data}/{quote('live copy')}").status_code == 204
    expect(copy).to_have_count(0)
    expect(page.get_by_test_id("dataset-gone")).to_have_text('Dataset "live copy" was deleted.')
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    assert requests.session_streams() == 1
