"""`/docs` and `/redoc` render in Chromium with every outside request blocked."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.server import ServerProcess

from .conftest import Offline, screenshot

pytestmark = pytest.mark.slow


def test_swagger_ui_renders_offline(page: Page, server: ServerProcess, offline: Offline) -> None:
    page.goto(f"{server.base}/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    expect(page.locator(".opblock-summary-path", has_text="/download").first).to_be_visible()
    screenshot(page, "docs-swagger-ui")
    assert offline.blocked == []


def test_redoc_renders_offline(page: Page, server: ServerProcess, offline: Offline) -> None:
    page.goto(f"{server.base}/redoc")
    heading = page.get_by_role("heading", name="Download a dataset table as CSV or XLSX")
    expect(heading).to_be_visible()
    screenshot(page, "docs-redoc")
    # The "powered by" logo points at Redocly's CDN: the page's policy stops the
    # browser from asking for it at all.
    assert offline.blocked == []
