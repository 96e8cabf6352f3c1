"""The compare page at scale in Chromium: 12, 50 and 1,000 scenarios, and 390 px
wide; sorting, filtering, select-all, the baseline's verdicts, the trade-off
scatter and "Download report"."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from algomancy_core.stores.sql import SQLStore
from tests.decisions_domain import complete_records
from tests.server import ServerProcess
from tests.webapp.conftest import screenshot

#: A real server process and Chromium.
pytestmark = pytest.mark.slow

DOMAIN = "tests.webapp.decide_domain:settings"


@pytest.fixture(scope="module")
def decide_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    cwd = tmp_path_factory.mktemp("compare-server")
    url = f"sqlite:///{cwd / 'state.sqlite'}"
    with ServerProcess(["--config", DOMAIN, "--database-url", url], cwd) as process:
        yield process, url


def session_with(server: tuple[ServerProcess, str], name: str, count: int) -> str:
    """A session of `count` complete scenarios, written into the server's database."""
    process, url = server
    answer = httpx.post(f"{process.base}/api/v1/sessions", json={"display_name": name})
    assert answer.status_code == 201, answer.text
    session_id: str = answer.json()["session"]["id"]
    store = SQLStore(url)
    try:
        for record in complete_records(session_id, count):
            store.add_scenario(record)
    finally:
        store.close()
    return session_id


def open_compare(page: Page, base: str, session_id: str) -> None:
    page.goto(f"{base}/#/sessions/{session_id}/compare")
    expect(page.get_by_role("heading", name="Compare", level=1)).to_be_visible()
    expect(page.get_by_test_id("compare-count")).to_be_visible()


def test_twelve_scenarios_against_a_baseline(
    page: Page, decide_server: tuple[ServerProcess, str], tmp_path: Path
) -> None:
    process, _ = decide_server
    sid = session_with(decide_server, "twelve", 12)
    open_compare(page, process.base, sid)
    table = page.get_by_role("table", name="Scenario comparison")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(12)
    expect(page.get_by_test_id("compare-count")).to_have_text("12 of 12 shown, 12 selected.")
    expect(table.locator("thead th")).to_contain_text(
        ["", "Scenario", "Status", "profit", "cost", "service", "delay"]
    )
    # Parameters are columns too; diff-only keeps those that differ.
    expect(table.locator("thead th", has_text="label")).to_have_count(1)
    expect(table.locator("thead th", has_text="delay").first).to_be_visible()
    page.get_by_label("Only parameters that differ").check()
    expect(table.locator("thead th", has_text="fail")).to_have_count(0)
    # A baseline: it comes first, verdicts colour the cells.
    page.get_by_label("Baseline").select_option(label="scenario-0003")
    expect(rows.first).to_have_attribute("data-scenario", "scenario-0003")
    expect(rows.first.locator("td[data-verdict=equal]")).to_have_count(2)
    expect(table.locator("td[data-verdict=improved]").first).to_be_visible()
    expect(table.locator("td[data-verdict=worse]").first).to_be_visible()
    page.get_by_role("button", name="Pin as the session's baseline").click()
    expect(page.get_by_label("Baseline").locator("option", has_text="(pinned)")).to_have_count(1)
    pinned = httpx.get(f"{process.base}/api/v1/sessions/{sid}/baseline").json()
    assert pinned["tag"] == "scenario-0003"
    expect(rows.first.get_by_text("baseline", exact=True)).to_be_visible()
    # Sorting by a KPI, both ways.
    table.get_by_role("button", name="profit", exact=True).click()
    first = rows.first.get_attribute("data-scenario")
    table.get_by_role("button", name="profit ▲", exact=True).click()
    assert rows.first.get_attribute("data-scenario") != first
    expect(table.locator("th[aria-sort=descending]")).to_have_count(1)
    # Filter, select-all of what is shown.
    page.get_by_label("Filter").fill("scenario-001")
    expect(rows).to_have_count(2)
    page.get_by_label("Select all shown").uncheck()
    expect(page.get_by_test_id("compare-count")).to_have_text(
        "2 of 12 shown, 0 selected; against scenario-0003."
    )
    page.get_by_label("Filter").fill("")
    expect(page.locator("figure[data-chart] canvas")).to_have_count(4)
    expect(page.get_by_test_id("non-dominated")).to_contain_text("Non-dominated")
    screenshot(page, "compare-12")
    # The report of the selection, against the baseline.
    page.get_by_label("Select all shown").check()
    with page.expect_download() as caught:
        page.get_by_role("button", name="Download report").click()
    saved = tmp_path / "report.xlsx"
    caught.value.save_as(saved)
    book = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()))
    summary = [row[0] for row in book["Summary"].iter_rows(min_row=2, values_only=True)]
    assert summary[0] == "scenario-0003" and len(summary) == 12
    # The scenario list marks the pinned baseline too.
    page.get_by_role("link", name="Scenarios", exact=True).click()
    listed = page.get_by_role("table", name="Scenarios").locator("tr[data-scenario=scenario-0003]")
    expect(listed.get_by_text("baseline", exact=True)).to_be_visible()


def test_the_comparison_follows_the_session(
    page: Page, decide_server: tuple[ServerProcess, str]
) -> None:
    """A scenario run elsewhere appears in the open page once it is complete."""
    process, _ = decide_server
    sid = session_with(decide_server, "live", 3)
    open_compare(page, process.base, sid)
    rows = page.get_by_role("table", name="Scenario comparison").locator("tbody tr")
    expect(rows).to_have_count(3)
    api = f"{process.base}/api/v1/sessions/{sid}/scenarios"
    body = {"tag": "late", "dataset_key": "Master data", "algo_name": "Fixed"}
    created = httpx.post(api, json=body).json()["id"]
    assert httpx.post(f"{api}/{created}/run").status_code == 202
    late = page.locator("tr[data-scenario=late]")
    expect(late).to_contain_text("complete")
    expect(rows).to_have_count(4)


def test_fifty_scenarios_charts_stay_readable(
    page: Page, decide_server: tuple[ServerProcess, str]
) -> None:
    process, _ = decide_server
    sid = session_with(decide_server, "fifty", 50)
    open_compare(page, process.base, sid)
    page.get_by_label("Select all shown").check()
    expect(page.get_by_test_id("compare-count")).to_have_text("50 of 50 shown, 50 selected.")
    chart = page.locator("figure[data-chart=profit] canvas")
    expect(chart).to_be_visible()
    # A bar per scenario, each label drawn: the chart is tall enough for 50 rows.
    box = chart.bounding_box()
    assert box is not None and box["height"] >= 50 * 18
    ticks = page.evaluate(
        "() => Object.values(Chart.instances).find((c) => c.canvas.closest('[data-chart=profit]'))"
        ".scales.y.ticks.length"
    )
    assert ticks == 50
    page.evaluate("document.getElementById('charts-title').scrollIntoView({block: 'start'})")
    screenshot(page, "compare-50")


def test_a_thousand_scenarios_stay_responsive(
    page: Page, decide_server: tuple[ServerProcess, str]
) -> None:
    process, _ = decide_server
    sid = session_with(decide_server, "thousand", 1000)
    open_compare(page, process.base, sid)
    table = page.get_by_role("table", name="Scenario comparison")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(100)
    expect(page.get_by_text("Rows 1\u2013100 of 1000")).to_be_visible()
    began = time.perf_counter()
    table.get_by_role("button", name="cost", exact=True).click()
    expect(table.locator("th[aria-sort=ascending]")).to_have_count(1)
    elapsed = time.perf_counter() - began
    assert elapsed < 10, f"sorting 1,000 rows took {elapsed:.1f} s"
    page.get_by_label("Select all shown").check()
    expect(page.get_by_test_id("compare-count")).to_have_text("1000 of 1000 shown, 1000 selected.")
    expect(
        page.get_by_text("The bar charts show the first 50 of the 1000 selected.")
    ).to_be_visible()
    expect(page.get_by_test_id("non-dominated")).to_contain_text("Non-dominated")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Rows 101\u2013200 of 1000")).to_be_visible()
    page.get_by_label("Filter").fill("scenario-0999")
    expect(rows).to_have_count(1)
    page.get_by_label("Filter").fill("")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "compare-1000")


def test_compare_at_390_px(
    context: BrowserContext, decide_server: tuple[ServerProcess, str]
) -> None:
    process, _ = decide_server
    sid = session_with(decide_server, "narrow", 12)
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    open_compare(page, process.base, sid)
    expect(page.get_by_role("table", name="Scenario comparison").locator("tbody tr")).to_have_count(
        12
    )
    # Nothing but the table's own box scrolls sideways.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    expect(page.get_by_role("button", name="Download report")).to_be_visible()
    expect(page.locator("figure[data-chart=profit] canvas")).to_be_visible()
    screenshot(page, "compare-390")
