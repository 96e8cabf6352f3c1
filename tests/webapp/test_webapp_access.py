"""Labelled fields on every page, and the app used from the keyboard alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.server import ServerProcess

pytestmark = pytest.mark.slow

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 80))"""


#: A function listing text under WCAG AA's 4.5:1 contrast with its background.
LOW_CONTRAST = (Path(__file__).parent / "low_contrast.js").read_text()


@pytest.mark.parametrize("route", ["scenarios", "data", "compare", "sessions"])
def test_every_control_has_a_name_and_text_is_readable(
    page: Page, server: ServerProcess, route: str
) -> None:
    page.goto(f"{server.base}/#/{route}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("Loading")).to_have_count(0)
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(LOW_CONTRAST) == []
    assert page.locator("html").get_attribute("lang") == "en"


def test_the_contrast_check_finds_faint_text(page: Page, server: ServerProcess) -> None:
    page.goto(f"{server.base}/#/sessions")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    # Styled through the CSSOM: the page's policy refuses a `style` attribute in HTML.
    page.evaluate(
        "(() => { const p = document.createElement('p'); p.textContent = 'faint';"
        " p.style.color = '#bbb'; document.querySelector('main').append(p); })()"
    )
    assert page.evaluate(LOW_CONTRAST) == ["faint: 1.79"]


def test_create_a_scenario_with_the_keyboard_only(page: Page, server: ServerProcess) -> None:
    page.goto(f"{server.base}/#/scenarios")
    expect(page.get_by_label("duration")).to_be_visible()
    # The dataset's data parameters load after the algorithm's: the whole form first.
    expect(page.get_by_label("demand_growth")).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    for _ in range(30):  # Tab through the page to the tag field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "scenario-tag":
            break
    else:
        pytest.fail("the tag field is not reachable with Tab")
    page.keyboard.type("typed")
    page.keyboard.press("Enter")  # submits the form
    detail = page.get_by_test_id("scenario-detail")
    expect(detail.get_by_role("heading", name="typed")).to_be_visible()
    run = detail.get_by_role("button", name="Run")
    run.focus()
    page.keyboard.press("Enter")
    expect(detail.get_by_test_id("live-status").locator("[data-status]")).to_have_text(
        "complete", timeout=30_000
    )


def test_the_skip_link_keeps_the_route_and_what_was_typed(
    page: Page, server: ServerProcess
) -> None:
    """The skip link moves focus only. Following its `#main` href used to rewrite the
    route, and the page was drawn again from scratch, losing the half-filled form
    (CI caught it: the keyboard test's Enter met a form still loading)."""
    page.goto(f"{server.base}/#/scenarios")
    expect(page.get_by_label("duration")).to_be_visible()
    url = page.url
    assert "/sessions/" in url  # the app gave the older link its session
    page.get_by_label("Tag").fill("half typed")
    page.keyboard.press("Shift+Tab")  # any focus, then back to the top
    page.locator("a.skip").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    assert page.url == url
    expect(page.get_by_text("Loading")).to_have_count(0)
    expect(page.get_by_label("Tag")).to_have_value("half typed")
