"""The planner's workflow in Chromium against a real server, with the internet cut off:
upload, see an ETL error, create a scenario from the form (and a field error), run it
and watch it complete live, cancel one, compare two."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.polling import wait_for
from tests.server import ServerProcess

from .conftest import Offline, screenshot

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "algomancy_example" / "data"
API = "/api/v1/sessions/main"


def open_app(page: Page, server: ServerProcess, route: str) -> None:
    page.goto(f"{server.base}/#/{route}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def create_and_run(server: ServerProcess, tag: str, algo: str, params: dict[str, object]) -> str:
    body = {"tag": tag, "dataset_key": "Master data", "algo_name": algo, "algo_params": params}
    created = httpx.post(f"{server.base}{API}/scenarios", json=body)
    assert created.status_code == 201, created.text
    sid: str = created.json()["id"]
    assert httpx.post(f"{server.base}{API}/scenarios/{sid}/run").status_code == 202
    return sid


def wait_complete(server: ServerProcess, sid: str) -> None:
    wait_for(
        lambda: httpx.get(f"{server.base}{API}/scenarios/{sid}/status").json()["status"],
        lambda status: status == "complete",
        what=f"scenario {sid} complete",
    )


def test_upload_preview_and_download(
    page: Page, server: ServerProcess, offline: Offline, tmp_path: Path
) -> None:
    open_app(page, server, "data")
    page.get_by_label("Dataset name").fill("uploaded")
    page.get_by_label("Files (CSV, XLSX, JSON)").set_input_files(
        [str(SAMPLES / "sku_data.csv"), str(SAMPLES / "inventory.xlsx")]
    )
    page.get_by_role("button", name="Upload and validate").click()
    expect(page.get_by_text('Loaded dataset "uploaded" as version 1.')).to_be_visible()
    expect(page.get_by_role("button", name="uploaded", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    tabs = page.get_by_role("tablist", name="Tables of uploaded").get_by_role("tab")
    expect(tabs).to_have_count(3)
    # Tabs from the keyboard: arrow keys move between the tables.
    tabs.first.focus()
    page.keyboard.press("ArrowRight")
    expect(tabs.nth(1)).to_have_attribute("aria-selected", "true")
    expect(tabs.nth(1)).to_be_focused()
    page.keyboard.press("Home")
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    # Paged from the frame route: 50 rows, then the next 50.
    expect(page.get_by_text("Rows 1\u201350 of 200")).to_be_visible()
    expect(page.locator(".table-wrap tbody tr")).to_have_count(50)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Rows 51\u2013100 of 200")).to_be_visible()
    expect(page.locator(".table-wrap tbody tr").first).to_contain_text("SKU0051")
    screenshot(page, "data")

    with page.expect_download() as csv:
        page.get_by_role("button", name="Download sku_data as CSV").click()
    assert csv.value.suggested_filename == "uploaded-sku_data.csv"
    target = tmp_path / "sku.csv"
    csv.value.save_as(target)
    assert target.read_bytes().startswith(b"sku,description,family,")
    with page.expect_download() as xlsx:
        page.get_by_role("button", name="Download sku_data as XLSX").click()
    assert xlsx.value.suggested_filename == "uploaded-sku_data.xlsx"

    # Derive, then delete the derived copy.
    page.get_by_label("Derive a copy named").fill("uploaded copy")
    page.get_by_role("button", name="Derive").click()
    expect(page.get_by_role("button", name="uploaded copy", exact=True)).to_be_visible()
    page.get_by_role("button", name="uploaded copy", exact=True).click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete dataset").click()
    expect(page.get_by_role("button", name="uploaded copy", exact=True)).to_have_count(0)
    assert offline.blocked == []


def test_etl_error_is_shown_by_table_column_and_row(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    broken = tmp_path / "sku_data.csv"
    lines = (SAMPLES / "sku_data.csv").read_text().splitlines()
    lines[3] = "SKU0003,Shower gel,personal care,heavy,12.1,1.33"
    broken.write_text("\n".join(lines) + "\n")
    open_app(page, server, "data")
    page.get_by_label("Dataset name").fill("broken")
    page.get_by_label("Files (CSV, XLSX, JSON)").set_input_files(
        [str(broken), str(SAMPLES / "inventory.xlsx")]
    )
    page.get_by_role("button", name="Upload and validate").click()
    expect(page.get_by_text("The upload was refused")).to_be_visible()
    messages = page.get_by_role("table", name="Validation messages")
    error_row = messages.locator("tbody tr").filter(has_text="weight_kg").first
    cells = error_row.locator("td")
    expect(cells.nth(0)).to_have_text("error")
    expect(cells.nth(1)).to_have_text("sku_data")
    expect(cells.nth(2)).to_have_text("weight_kg")
    expect(cells.nth(3)).to_have_text(re.compile(r"^\d+$"))
    expect(page.get_by_role("button", name="broken", exact=True)).to_have_count(0)
    screenshot(page, "data-etl-error")


def test_form_covers_every_parameter_type_and_shows_field_errors(
    page: Page, server: ServerProcess
) -> None:
    open_app(page, server, "scenarios")
    page.get_by_label("Tag").fill("every type")
    page.get_by_label("Algorithm").select_option("Every parameter")
    count = page.locator("#param-count")
    expect(count).to_have_attribute("type", "number")
    expect(count).to_have_attribute("min", "1")
    expect(count).to_have_attribute("max", "10")
    expect(page.locator("#param-ratio")).to_have_attribute("step", "any")
    expect(page.locator("#param-label")).to_have_value("hello")
    expect(page.locator("#param-label-hint")).to_contain_text("at most 20 characters")
    expect(page.get_by_label("verbose")).not_to_be_checked()
    expect(page.locator("#param-mode option")).to_have_text(["fast", "thorough"])
    regions = page.get_by_role("group", name="regions")
    expect(regions.get_by_role("checkbox")).to_have_count(3)
    expect(regions.get_by_label("north")).to_be_checked()
    expect(page.locator("#param-day")).to_have_attribute("type", "date")
    expect(page.locator("#param-day")).to_have_attribute("max", "2024-12-31")
    expect(page.locator("#param-moment")).to_have_attribute("type", "datetime-local")
    window = page.get_by_role("group", name="window")
    expect(window.get_by_label("Start")).to_have_value("2024-01-01")
    expect(window.get_by_label("End")).to_have_value("2024-01-31")

    # A value out of range: the server's message appears at its field.
    count.fill("99")
    page.get_by_role("button", name="Create scenario").click()
    error = page.locator("#param-count-error")
    expect(error).to_contain_text("count")
    expect(error).to_contain_text("10")
    expect(count).to_have_attribute("aria-invalid", "true")
    expect(count).to_be_focused()
    page.get_by_role("heading", name="Parameters", exact=True).scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -120)")
    screenshot(page, "scenario-form-error")

    # An interval whose end is before its start: the error goes to that fieldset.
    count.fill("4")
    window.get_by_label("End").fill("2023-12-01")
    page.get_by_role("button", name="Create scenario").click()
    expect(page.locator("#param-window-error")).to_contain_text("end")
    expect(page.locator("#param-count-error")).to_have_count(0)

    window.get_by_label("End").fill("2024-02-15")
    page.get_by_label("verbose").check()
    page.locator("#param-mode").select_option("thorough")
    regions.get_by_label("south").check()
    page.locator("#param-ratio").fill("0.25")
    page.locator("#param-moment").fill("2024-05-06T07:08:09")
    page.get_by_role("button", name="Create scenario").click()
    detail = page.get_by_test_id("scenario-detail")
    expect(detail.get_by_role("heading", name="every type")).to_be_visible()
    expect(detail.get_by_test_id("live-status")).to_contain_text("created")
    created = next(
        s for s in httpx.get(f"{server.base}{API}/scenarios").json() if s["tag"] == "every type"
    )
    values = {p["name"]: p["value"] for p in created["algorithm"]["parameters"]}
    assert values == {
        "count": 4,
        "ratio": 0.25,
        "label": "hello",
        "verbose": True,
        "mode": "thorough",
        "regions": ["north", "south"],
        "day": "2024-03-01",
        "moment": "2024-05-06T07:08:09",
        "window": {"start": "2024-01-01", "end": "2024-02-15"},
    }


def test_run_shows_live_progress_until_complete(page: Page, server: ServerProcess) -> None:
    open_app(page, server, "scenarios")
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Tag").fill("slow run")
    page.get_by_label("Algorithm").select_option("Slow")
    page.get_by_label("duration").fill("3")
    page.get_by_role("button", name="Create scenario").click()
    detail = page.get_by_test_id("scenario-detail")
    expect(detail.get_by_role("heading", name="slow run")).to_be_visible()
    detail.get_by_role("button", name="Run").click()
    live = detail.get_by_test_id("live-status")
    # The algorithm's own message, as it reports progress, then the end state.
    expect(detail.get_by_test_id("progress-message")).to_have_text(re.compile(r"^[12]/3 s$"))
    screenshot(page, "scenario-running")
    expect(live.locator("[data-status]")).to_have_text("complete", timeout=30_000)
    expect(live.locator("progress")).to_have_attribute("value", "100")
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    kpis = detail.get_by_role("table", name="KPIs")
    expect(kpis.locator("tr[data-kpi=throughput] td").first).not_to_have_text(
        "\u2013"
    )  # the "no value" dash
    expect(detail.get_by_role("tablist", name="Result tables of slow run")).to_be_visible()
    row = page.locator("tr[data-scenario='slow run']")
    expect(row.locator("[data-status]")).to_have_text("complete")
    screenshot(page, "scenario-complete")
    # Re-run: the same scenario goes through its states again, live.
    detail.get_by_role("button", name="Re-run").click()
    expect(live.locator("[data-status]")).not_to_have_text("complete")
    expect(detail.get_by_role("table", name="KPIs")).to_be_visible()
    expect(live.locator("[data-status]")).to_have_text("complete", timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True


def test_cancel_a_running_scenario(page: Page, server: ServerProcess) -> None:
    sid = create_and_run(server, "to cancel", "Slow", {"duration": 60})
    open_app(page, server, f"scenarios/{sid}")
    detail = page.get_by_test_id("scenario-detail")
    status = detail.get_by_test_id("live-status").locator("[data-status]")
    expect(status).to_have_text("processing")
    detail.get_by_role("button", name="Cancel").click()
    expect(status).to_have_text("failed")
    expect(detail.get_by_text("Error: cancelled")).to_be_visible()
    screenshot(page, "scenario-cancelled")
    detail.get_by_role("button", name="Reset").click()
    expect(status).to_have_text("created")
    expect(detail.get_by_text("Error: cancelled")).to_have_count(0)
    expect(detail.get_by_role("button", name="Run", exact=True)).to_be_enabled()
    page.once("dialog", lambda dialog: dialog.accept())
    detail.get_by_role("button", name="Delete").click()
    expect(page.locator("tr[data-scenario='to cancel']")).to_have_count(0)


def test_compare_two_scenarios(page: Page, server: ServerProcess) -> None:
    # The page shows every scenario of the session: only this test's three.
    for earlier in httpx.get(f"{server.base}{API}/scenarios").json():
        assert httpx.delete(f"{server.base}{API}/scenarios/{earlier['id']}").status_code == 204
    first = create_and_run(server, "abc", "ABC slotting", {})
    second = create_and_run(server, "random", "Random slotting", {"seed": 7})
    # The as-is slotting leaves SKUs without a location: over the threshold of 0.
    third = create_and_run(server, "as-is", "Slow", {"duration": 1})
    for sid in (first, second, third):
        wait_complete(server, sid)
    open_app(page, server, "compare")
    table = page.get_by_role("table", name="Scenario comparison")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("thead th")).to_contain_text(
        ["", "Scenario", "Status", "throughput", "travel_distance", "unassigned_skus"]
    )
    headers = table.locator("thead th")
    expect(headers.filter(has_text="throughput")).to_contain_text("items/s, higher is better")
    expect(headers.filter(has_text="unassigned_skus")).to_contain_text("at most the threshold")
    # Without a baseline, a value that breaks its threshold is marked.
    as_is = table.locator("tr[data-scenario=as-is] td.num")
    expect(as_is.nth(2)).to_have_class(re.compile(r"\bbad\b"))
    expect(table.locator("tr[data-scenario=abc] td.bad")).to_have_count(0)
    # Against abc: verdicts per KPI.
    page.get_by_label("Baseline").select_option(label="abc")
    expect(table.locator("tbody tr").first).to_have_attribute("data-scenario", "abc")
    random_row = table.locator("tr[data-scenario=random]")
    expect(random_row.locator("td[data-verdict]").nth(1)).to_have_attribute("data-verdict", "worse")
    expect(page.locator("figure[data-chart] canvas")).to_have_count(3)
    assert page.evaluate("typeof window.Chart") == "function"
    screenshot(page, "compare")
    breach = page.evaluate(
        """import('/static/compare.js').then(({breached}) => [
            breached({better_when: 'at_most', threshold: 0}, 3),
            breached({better_when: 'at_most', threshold: 0}, 0),
            breached({better_when: 'at_least', threshold: 5}, 4),
            breached({better_when: 'higher', threshold: null}, -1)])"""
    )
    assert breach == [True, False, True, False]


def test_sessions_create_rename_copy_switch_delete(page: Page, server: ServerProcess) -> None:
    open_app(page, server, "sessions")
    page.get_by_label("Name", exact=True).fill("what-if")
    page.get_by_role("button", name="Create session").click()
    expect(page.get_by_text("Created session what-if and switched to it.")).to_be_visible()
    expect(page.get_by_label("Session", exact=True)).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    page.get_by_role("button", name="Rename what-if").click()
    page.get_by_label("New name").fill("what-if 2")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(page.get_by_text("Renamed to what-if 2.")).to_be_visible()
    page.get_by_role("button", name="Copy main").click()
    page.get_by_label("Name of the copy").fill("main copy")
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_text("Copied main to main copy.")).to_be_visible()
    page.get_by_role("button", name="Switch to main copy").click()
    expect(page.locator("tr.selected")).to_contain_text("main copy")
    screenshot(page, "sessions")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete what-if 2").click()
    expect(page.get_by_text("Deleted what-if 2.")).to_be_visible()
    expect(page.get_by_role("button", name="Delete what-if 2")).to_have_count(0)
    # Switch back, so that the other tests keep working in main.
    page.get_by_role("button", name="Switch to main", exact=True).click()
