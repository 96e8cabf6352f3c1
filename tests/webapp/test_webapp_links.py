"""Links that name their session, data parameters in the scenario form, and result
table downloads, in Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.polling import wait_for
from tests.server import ServerProcess

from .conftest import Offline, screenshot

pytestmark = pytest.mark.slow

API = "/api/v1"


@pytest.fixture
def fresh(browser: Browser, offline: Offline) -> Iterator[BrowserContext]:
    """A second browser, as on a colleague's machine: no localStorage, no cookies."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.route("**/*", offline)
    yield context
    context.close()


def shared_scenario(server: ServerProcess, session: str, tag: str) -> dict[str, Any]:
    """A complete ABC slotting scenario in a new session `session` (not the default)."""
    made = httpx.post(f"{server.base}{API}/sessions", json={"display_name": session})
    assert made.status_code == 201, made.text
    sid = made.json()["session"]["id"]
    base = f"{server.base}{API}/sessions/{sid}/scenarios"
    body = {"tag": tag, "dataset_key": "Master data", "algo_name": "ABC slotting"}
    created = httpx.post(base, json=body)
    assert created.status_code == 201, created.text
    scenario_id = created.json()["id"]
    assert httpx.post(f"{base}/{scenario_id}/run").status_code == 202
    wait_for(
        lambda: httpx.get(f"{base}/{scenario_id}/status").json()["status"],
        lambda status: status == "complete",
        what=f"{tag} complete",
    )
    return {"session": sid, "id": scenario_id}


def test_a_copied_link_opens_the_scenario_in_a_fresh_browser(
    page: Page, fresh: BrowserContext, server: ServerProcess, tmp_path: Path
) -> None:
    made = shared_scenario(server, "shared", "linked abc")
    page.goto(f"{server.base}/#/scenarios")
    page.get_by_label("Session").select_option(label="shared")
    page.get_by_role("link", name="linked abc").click()
    detail = page.get_by_test_id("scenario-detail")
    expect(detail.get_by_role("heading", name="linked abc")).to_be_visible()
    url = page.url
    assert f"#/sessions/{made['session']}/scenarios/{made['id']}" in url

    other = fresh.new_page()
    other.goto(url)
    detail = other.get_by_test_id("scenario-detail")
    expect(detail.get_by_role("heading", name="linked abc")).to_be_visible()
    expect(detail.get_by_test_id("live-status")).to_contain_text("complete")
    expect(other.get_by_label("Session")).to_have_value(made["session"])
    # The navigation keeps to the link's session.
    expect(other.get_by_role("link", name="Data", exact=True)).to_have_attribute(
        "href", f"#/sessions/{made['session']}/data"
    )

    # The result table downloads from its tab, as a file named after the scenario.
    with other.expect_download() as csv:
        other.get_by_role("button", name="Download assignment as CSV").click()
    assert csv.value.suggested_filename == "linked abc-assignment.csv"
    target = tmp_path / "assignment.csv"
    csv.value.save_as(target)
    assert target.read_bytes().startswith(b"sku,location,")
    with other.expect_download() as xlsx:
        other.get_by_role("button", name="Download assignment as XLSX").click()
    assert xlsx.value.suggested_filename == "linked abc-assignment.xlsx"
    other.get_by_role("heading", name="Result tables").scroll_into_view_if_needed()
    screenshot(other, "scenario-shared-link")


def test_an_older_link_without_a_session_still_opens(
    fresh: BrowserContext, server: ServerProcess
) -> None:
    made = shared_scenario(server, "older", "old link")
    page = fresh.new_page()
    page.goto(f"{server.base}/#/scenarios/{made['id']}")
    detail = page.get_by_test_id("scenario-detail")
    expect(detail.get_by_role("heading", name="old link")).to_be_visible()
    expect(page).to_have_url(f"{server.base}/#/sessions/{made['session']}/scenarios/{made['id']}")


def test_a_link_to_an_unknown_session_says_so(fresh: BrowserContext, server: ServerProcess) -> None:
    page = fresh.new_page()
    missing = "0b7e1c9a-0000-4000-8000-000000000000"
    page.goto(f"{server.base}/#/sessions/{missing}/scenarios/some-scenario")
    box = page.get_by_test_id("unknown-session")
    expect(box.get_by_role("heading", name="Session not available")).to_be_visible()
    expect(box.get_by_role("alert")).to_contain_text(missing)
    expect(box.get_by_role("alert")).to_contain_text("does not exist")
    screenshot(page, "unknown-session")
    # The way out goes to a session the user has.
    box.get_by_role("link", name="Open your session main").click()
    expect(page.get_by_role("heading", level=1, name="Scenarios")).to_be_visible()


def test_data_parameters_are_set_in_the_form_with_field_errors(
    page: Page, server: ServerProcess
) -> None:
    page.goto(f"{server.base}/#/scenarios")
    page.get_by_label("Tag").fill("grown")
    page.get_by_label("Dataset").select_option("Master data")
    page.get_by_label("Algorithm").select_option("ABC slotting")
    growth = page.locator("#data-param-demand_growth")
    expect(page.get_by_role("heading", name="Data parameters")).to_be_visible()
    expect(growth).to_have_value("1")
    expect(growth).to_have_attribute("max", "10")

    growth.fill("99")
    page.get_by_role("button", name="Create scenario").click()
    error = page.locator("#data-param-demand_growth-error")
    expect(error).to_contain_text("demand_growth")
    expect(error).to_contain_text("10")
    expect(growth).to_have_attribute("aria-invalid", "true")
    expect(growth).to_be_focused()

    growth.fill("2.5")
    page.get_by_role("button", name="Create scenario").click()
    detail = page.get_by_test_id("scenario-detail")
    expect(detail.get_by_role("heading", name="grown")).to_be_visible()
    expect(detail.get_by_role("table", name="Data parameters")).to_contain_text("2.5")
    listed = httpx.get(f"{server.base}{API}/sessions/main/scenarios").json()
    created = next(s for s in listed if s["tag"] == "grown")
    assert created["data_parameters"] == {"demand_growth": 2.5}
