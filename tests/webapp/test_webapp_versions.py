"""Dataset versions in Chromium: the versions on the data page, the version and the
lineage on a scenario, the warning on the compare page when compared scenarios ran on
different versions of one dataset, and a delete that keeps the versions in use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.polling import wait_for
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "algomancy_example" / "data"
API = "/api/v1/sessions/main"


def scenario_on(server: ServerProcess, tag: str, version: int) -> str:
    body = {
        "tag": tag,
        "dataset_key": "week",
        "algo_name": "ABC slotting",
        "dataset_version": version,
    }
    created = httpx.post(f"{server.base}{API}/scenarios", json=body)
    assert created.status_code == 201, created.text
    sid: str = created.json()["id"]
    assert httpx.post(f"{server.base}{API}/scenarios/{sid}/run").status_code == 202
    wait_for(
        lambda: httpx.get(f"{server.base}{API}/scenarios/{sid}/status").json()["status"],
        lambda status: status == "complete",
        what=f"{tag} complete",
    )
    return sid


def two_versions(server: ServerProcess) -> None:
    files = [
        ("files", (name, (SAMPLES / name).read_bytes(), "application/octet-stream"))
        for name in ("sku_data.csv", "inventory.xlsx")
    ]
    uploaded = httpx.post(f"{server.base}{API}/etl", data={"dataset_name": "week"}, files=files)
    assert uploaded.json()["dataset_version"] == 1, uploaded.text
    document: dict[str, Any] = httpx.get(f"{server.base}{API}/data/week").json()
    table = document["tables"]["sku_data"]["data"]
    column = next(c for c, values in table.items() if isinstance(values[0], int | float))
    table[column] = [v * 2 for v in table[column]]
    added = httpx.post(
        f"{server.base}{API}/data/from-json", params={"new_version": "true"}, json=document
    )
    assert added.status_code == 201, added.text


def test_versions_lineage_and_the_compare_warning(page: Page, server: ServerProcess) -> None:
    two_versions(server)
    first = scenario_on(server, "on v1", 1)
    scenario_on(server, "on v2", 2)

    page.goto(f"{server.base}/#/data")
    page.get_by_role("button", name="week", exact=True).click()
    versions = page.get_by_role("table", name="Versions")
    expect(versions.locator("tbody tr")).to_have_count(2)
    expect(versions.locator("tr[data-version='2']")).to_contain_text("latest")
    expect(versions.locator("tr[data-version='1'] td").last).to_have_text("1")

    page.goto(f"{server.base}/#/scenarios/{first}")
    expect(page.get_by_test_id("dataset-version")).to_have_text("version 1")
    lineage = page.get_by_role("table", name="Lineage")
    expect(lineage).to_contain_text("Fingerprint")
    expect(lineage).to_contain_text("thread")

    page.goto(f"{server.base}/#/compare")
    table = page.get_by_role("table", name="Scenario comparison")
    expect(table).to_be_visible()
    # The scenarios' rows are drawn once the list has loaded (which redraws the
    # checkboxes): a click before that can be undone by the redraw on a loaded machine.
    expect(page.get_by_label("Select on v1")).to_be_visible()
    expect(page.get_by_label("Select on v2")).to_be_visible()
    everything = page.get_by_label("Select all shown")
    everything.check()
    everything.uncheck()
    page.get_by_label("Select on v1").check()
    expect(page.get_by_test_id("version-warning")).to_have_count(0)
    page.get_by_label("Select on v2").check()
    warning = page.get_by_test_id("version-warning")
    expect(warning).to_contain_text('different versions of dataset "week" (v1, v2)')
    expect(warning).to_contain_text("on v1: v1; on v2: v2")

    # A third version no scenario uses: a delete drops it and keeps the others.
    document = httpx.get(f"{server.base}{API}/data/week?version=1").json()
    document["tables"]["stock"]["data"]["quantity"][0] += 1
    added = httpx.post(
        f"{server.base}{API}/data/from-json", params={"new_version": "true"}, json=document
    )
    assert added.status_code == 201, added.text
    page.goto(f"{server.base}/#/data")
    page.get_by_role("button", name="week", exact=True).click()
    expect(page.get_by_role("table", name="Versions").locator("tbody tr")).to_have_count(3)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete dataset").click()
    expect(page.get_by_text("Deleted version(s) 3; version(s) 1, 2 remain")).to_be_visible()
    expect(page.get_by_role("table", name="Versions").locator("tbody tr")).to_have_count(2)
    # Both remaining versions are in use: nothing more is deleted, and it says why.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete dataset").click()
    expect(page.get_by_role("alert")).to_contain_text("used by scenario(s) on v1, on v2")
