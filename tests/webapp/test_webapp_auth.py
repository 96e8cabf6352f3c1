"""With authentication on, the app asks for an API key, keeps it for the tab only,
and shows who is signed in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.server import ServerProcess

from .conftest import screenshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def secured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    cwd: Path = tmp_path_factory.mktemp("webapp-secured")
    with ServerProcess(["--config", "tests.webapp.domain:secured", "--in-memory"], cwd) as server:
        yield server


def test_sign_in_with_an_api_key(
    page: Page, context: BrowserContext, secured_server: ServerProcess
) -> None:
    page.goto(f"{secured_server.base}/#/data")
    key = page.get_by_label("API key")
    expect(key).to_have_attribute("type", "password")
    key.fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("The server did not accept that API key.")
    screenshot(page, "sign-in")
    key.fill("k-alice")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("user")).to_have_text("Signed in as alice")
    # Calls carry the key: the datasets of alice's session show.
    expect(page.get_by_role("button", name="Master data")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('algomancy-api-key')") == "k-alice"
    assert page.evaluate("localStorage.getItem('algomancy-api-key')") is None
    # The key lives in sessionStorage: a new tab of this browser must sign in again.
    other = context.new_page()
    other.goto(f"{secured_server.base}/")
    expect(other.get_by_label("API key")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('algomancy-api-key')") is None


def test_live_progress_with_a_key(page: Page, secured_server: ServerProcess) -> None:
    """The event stream is read with fetch(), so it carries the key (EventSource could not)."""
    page.goto(f"{secured_server.base}/#/scenarios")
    page.get_by_label("API key").fill("k-alice")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Tag").fill("secured run")
    page.get_by_label("Algorithm").select_option("Slow")
    page.get_by_label("duration").fill("3")
    page.get_by_role("button", name="Create scenario").click()
    detail = page.get_by_test_id("scenario-detail")
    detail.get_by_role("button", name="Run").click()
    expect(detail.get_by_test_id("progress-message")).to_have_text(re.compile(r"^[12]/3 s$"))
    expect(detail.get_by_test_id("live-status").locator("[data-status]")).to_have_text(
        "complete", timeout=30_000
    )


def test_a_link_to_another_users_session_says_it_is_not_yours(
    page: Page, secured_server: ServerProcess
) -> None:
    made = httpx.post(
        f"{secured_server.base}/api/v1/sessions",
        json={"display_name": "bob's plans"},
        headers={"X-API-Key": "k-bob"},
    )
    assert made.status_code == 201, made.text
    bobs = made.json()["session"]["id"]
    page.goto(f"{secured_server.base}/#/sessions/{bobs}/scenarios")
    page.get_by_label("API key").fill("k-alice")
    page.get_by_role("button", name="Sign in").click()
    box = page.get_by_test_id("unknown-session")
    expect(box.get_by_role("heading", name="Session not available")).to_be_visible()
    expect(box.get_by_role("alert")).to_contain_text(bobs)
    expect(box.get_by_role("alert")).to_contain_text("you (alice) cannot see")
    expect(page.get_by_text("bob's plans")).to_have_count(0)  # nothing of bob's shows
