"""A real server process and Debian's Chromium, driven by Playwright, offline.

Every request to a host other than the test server is aborted and recorded, so a
page that needs the internet fails here as it would on a locked-down network.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    expect,
)

from tests.docs.runner import fresh_sessions
from tests.server import ServerProcess

DOMAIN = "tests.webapp.domain:settings"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# A shared CI machine can be slow: waiting longer is no speed assertion, only a bound.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server of the web app's domain (in memory) per test process, for every
    module that uses `server`: a server process costs ~2.3 s of CPU to start, and 12
    modules use it (under `-n auto` each worker starts it once, not once per module)."""
    cwd = tmp_path_factory.mktemp("webapp-server")
    with ServerProcess(["--config", DOMAIN, "--in-memory"], cwd) as process:
        yield process


@pytest.fixture(scope="module")
def server(shared_server: ServerProcess) -> ServerProcess:
    """The shared server with its sessions deleted first: the server replaces the last
    one by a fresh `main` with the domain's datasets, so each module starts as it did
    on a server of its own."""
    fresh_sessions(shared_server.base)
    return shared_server


class Offline:
    """Aborts requests to other hosts and remembers them."""

    def __init__(self) -> None:
        self.blocked: list[str] = []

    def __call__(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")


@pytest.fixture
def offline() -> Iterator[Offline]:
    """Every test's browser is offline; none of our pages may even try to go out."""
    guard = Offline()
    yield guard
    assert guard.blocked == []


#: The one Content-Security-Policy refusal expected: ReDoc's "powered by" logo on
#: Redocly's CDN, which the policy keeps the page from loading on purpose.
EXPECTED_VIOLATIONS = ("https://cdn.redoc.ly/",)


class CspViolations:
    """Collects what Chromium reports refused by a page's Content-Security-Policy
    (a console error naming the directive); `unexpected` leaves out the above."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.seen.append(message.text)

    @property
    def unexpected(self) -> list[str]:
        return [v for v in self.seen if not any(e in v for e in EXPECTED_VIOLATIONS)]


@pytest.fixture
def csp() -> Iterator[CspViolations]:
    """Every test's pages run under the server's policy; none may break a rule of it."""
    violations = CspViolations()
    yield violations
    assert violations.unexpected == []


@pytest.fixture
def context(browser: Browser, offline: Offline, csp: CspViolations) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.route("**/*", offline)
    context.on("console", csp)
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """Take a screenshot (of the whole page with `full_page`); with UPDATE_SCREENSHOTS=1
    it replaces docs/screenshots/`name`.png (the docs show these), else it is thrown away."""
    image = page.screenshot(full_page=full_page)
    assert image.startswith(b"\x89PNG")
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(image)
