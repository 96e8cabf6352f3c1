"""Debian's Chromium, driven by Playwright's sync API: one driver and one browser per
test process, started by the first test module that needs it, for the web app's tests
and the documentation site's.

`tests/conftest.py` makes `playwright` and `browser` fixtures of every test. They are
module-scoped, over one session-scoped driver and browser (`chromium`), and defined
once, on purpose. A running sync driver marks its asyncio loop as the running loop of
the process's main thread after every call it makes: while it is so marked, a second
`sync_playwright()` fails ("Sync API inside the asyncio loop"), and so does every
`asyncio.run()` ("cannot be called from a running event loop") in the tests that run
next in that xdist worker. So the module-scoped fixtures mark the loop as running
while a module uses the browser, and as not running at its end: between modules
nothing runs the driver's loop (it is suspended in its own greenlet until the next
call), and the next module's calls resume it as they would have.

Bought figure (docs/testing.md, "The whole suite"): 19 modules launched a Chromium
each, and the driver (a node process) with it; under `-n auto` each worker now
launches one at most.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.marks import require_slow

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class Chromium:
    """The process's driver, its browser, and the driver's event loop."""

    driver: Playwright
    browser: Browser
    loop: asyncio.AbstractEventLoop

    def resume(self) -> None:
        """Mark the driver's loop as the running one again, as its calls expect."""
        asyncio.events._set_running_loop(self.loop)

    def pause(self) -> None:
        """Mark no loop as running, so that other tests may run their own."""
        asyncio.events._set_running_loop(None)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """The driver and the browser, for every module of this test process that uses
    them (through `playwright` or `browser`, which resume and pause its loop)."""
    from playwright.sync_api import sync_playwright

    require_slow("Chromium")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (the CI script does)")
    manager = sync_playwright()
    driver = manager.start()
    loop = asyncio.events._get_running_loop()
    assert loop is not None, "Playwright's sync driver marks its loop as running"
    try:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except BaseException:
        manager.__exit__()
        raise
    started = Chromium(driver, browser, loop)
    started.pause()
    yield started
    started.resume()
    try:
        browser.close()
    finally:
        manager.__exit__()


@pytest.fixture(scope="module")
def playwright(chromium: Chromium) -> Iterator[Playwright]:
    require_slow("Chromium")
    chromium.resume()
    try:
        yield chromium.driver
    finally:
        chromium.pause()


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium: Chromium) -> Browser:
    return chromium.browser
