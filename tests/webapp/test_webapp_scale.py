"""1,000 scenarios in a session and a 100,000-row table: the pages show one page of
each, never the whole thing."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from algomancy_data import DataSource
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

SCENARIOS = 1000
ROWS = 100_000


def test_a_big_session_stays_paged(page: Page, server: ServerProcess) -> None:
    base = f"{server.base}/api/v1/sessions"
    with httpx.Client(timeout=60) as client:
        sid = client.post(base, json={"display_name": "big"}).json()["session"]["id"]
        table = pd.DataFrame(
            {"id": np.arange(ROWS), "value": np.linspace(0, 1, ROWS), "name": ["row"] * ROWS}
        )
        payload = DataSource("big table", tables={"rows": table}).to_json()
        assert (
            client.post(
                f"{base}/{sid}/data/from-json",
                content=payload,
                headers={"Content-Type": "application/json"},
            ).status_code
            == 201
        )
        for i in range(SCENARIOS):
            body = {"tag": f"s{i:04d}", "dataset_key": "big table", "algo_name": "Slow"}
            assert client.post(f"{base}/{sid}/scenarios", json=body).status_code == 201

    page.goto(f"{server.base}/#/scenarios")
    page.get_by_label("Session", exact=True).select_option(label="big")
    expect(page.get_by_role("heading", name=f"Scenarios ({SCENARIOS})")).to_be_visible()
    expect(page.get_by_text("Page 1 of 20")).to_be_visible()
    rows = page.get_by_role("table", name="Scenarios").locator("tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_label("Filter").fill("s0999")
    expect(rows).to_have_count(1)

    page.get_by_role("link", name="Data").click()
    page.get_by_role("button", name="big table").click()
    expect(page.get_by_text(f"Rows 1\u201350 of {ROWS}")).to_be_visible()
    expect(page.locator(".table-wrap tbody tr")).to_have_count(50)
    page.get_by_label("Rows per page").select_option("250")
    expect(page.get_by_text(f"Rows 1\u2013250 of {ROWS}")).to_be_visible()
    expect(page.locator(".table-wrap tbody tr")).to_have_count(250)
