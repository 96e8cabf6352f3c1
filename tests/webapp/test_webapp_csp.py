"""The pages work under the Content-Security-Policy the server sends with them.

Every page of every browser test runs under the policy (the `csp` fixture fails
a test whose page breaks a rule of it); these tests load each page, use what
needs the most (Swagger UI's "Try it out", ReDoc's search worker) and check that
the policy was really there.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.server import ServerProcess

from .conftest import CspViolations

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("route", ["sessions", "data", "scenarios", "compare"])
def test_the_web_app_runs_under_its_policy(
    page: Page, server: ServerProcess, csp: CspViolations, route: str
) -> None:
    answer = page.goto(f"{server.base}/#/{route}")
    assert answer is not None
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("Loading")).to_have_count(0)
    assert csp.seen == []


def test_swagger_ui_runs_under_its_policy(
    page: Page, server: ServerProcess, csp: CspViolations
) -> None:
    answer = page.goto(f"{server.base}/docs")
    assert answer is not None and "style-src 'self';" in answer.headers["content-security-policy"]
    page.locator(".opblock-summary-path", has_text="/health").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(
        page.locator(".live-responses-table tr.response .response-col_status").first
    ).to_have_text("200")
    assert csp.seen == []


def test_redoc_runs_under_its_policy(page: Page, server: ServerProcess, csp: CspViolations) -> None:
    """ReDoc needs inline styles and a worker from a blob (its search): allowed on
    /redoc only. Its logo on Redocly's CDN is refused, which shows the policy is
    enforced."""
    answer = page.goto(f"{server.base}/redoc")
    assert answer is not None
    assert "worker-src 'self' blob:" in answer.headers["content-security-policy"]
    heading = page.get_by_role("heading", name="Download a dataset table as CSV or XLSX")
    expect(heading).to_be_visible()
    page.get_by_placeholder("Search...").fill("download")
    search = page.get_by_role("search")
    expect(search.get_by_role("menuitem", name="Download a dataset table")).to_be_visible()
    assert csp.unexpected == []
    assert any("cdn.redoc.ly" in v for v in csp.seen)
