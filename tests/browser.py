"""Debian's Chromium, driven by Playwright's sync API: one driver and one browser per
test module, for the web app's tests and the documentation site's.

`tests/conftest.py` makes `playwright` and `browser` fixtures of every test. Both
are module-scoped, and defined once, on purpose. A running sync driver keeps an
asyncio loop in the process's main thread: a second `sync_playwright()` fails ("Sync
API inside the asyncio loop"), and so does every later `asyncio.run()` ("cannot be
called from a running event loop"). With session scope both happened under xdist,
where a worker runs other files after a browser test's; so the driver stops at the
end of each module that used it.
"""

from __future__ import annotations

from collections.abc import Iterator
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


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    require_slow("Chromium")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (the CI script does)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
