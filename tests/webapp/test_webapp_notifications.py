"""A browser notification when a followed run ends, only after the user opts in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.server import ServerProcess

from .test_webapp_workflow import create_and_run, wait_complete

pytestmark = pytest.mark.slow

#: Stands in for the browser's Notification API: records what would be shown, and
#: grants permission when asked (a headless browser shows nothing).
RECORDING_NOTIFICATIONS = """
window.__notes = [];
class RecordingNotification {
  static permission = "default";
  static async requestPermission() {
    RecordingNotification.permission = "granted";
    return "granted";
  }
  constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
}
window.Notification = RecordingNotification;
"""


def test_a_followed_run_ending_notifies_only_after_opting_in(
    page: Page, server: ServerProcess
) -> None:
    page.add_init_script(RECORDING_NOTIFICATIONS)
    sid = create_and_run(server, "quiet", "Slow", {"duration": 1})
    page.goto(f"{server.base}/#/scenarios/{sid}")
    detail = page.get_by_test_id("scenario-detail")
    status = detail.get_by_test_id("live-status").locator("[data-status]")
    # The server's word first: a failure below is then the page's, not a slow run's
    # (once, in a whole-suite run, the page still said `processing` after 30 s).
    wait_complete(server, sid)
    expect(status).to_have_text("complete", timeout=30_000)
    assert page.evaluate("window.__notes") == []  # not opted in: nothing shown

    toggle = detail.get_by_test_id("notify-toggle")
    expect(toggle).to_have_text("Notify me")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    detail.get_by_role("button", name="Re-run").click()
    expect(status).not_to_have_text("complete")
    expect(status).to_have_text("complete", timeout=30_000)
    page.wait_for_function("window.__notes.length > 0")
    assert page.evaluate("window.__notes") == [
        {"title": "Scenario quiet: complete", "body": "The run completed."}
    ]
    wait_complete(server, sid)
