"""The built documentation site, opened from files in Debian's Chromium: every page
renders with the material theme and asks no other host for anything, and search
works offline.

The site is built here as CI builds it (``mkdocs build --strict``). mkdocs comes
with the ``docs`` extra, which the ``test`` extra includes; where it is missing the
tests skip saying so, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route

from tests.docs.blocks import ROOT

pytestmark = pytest.mark.slow

#: material's indigo header: the theme's stylesheet was applied.
INDIGO = "rgb(64, 81, 181)"


def nav_pages(site: Path) -> list[str]:
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    return [p for p in pages if p != "404.html"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        message = 'mkdocs is missing: pip install -e ".[docs]" (the test extra includes it)'
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(f"{message} (CI=true: the site must be built)")
        pytest.skip(message)
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=ROOT,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return out


class Outside:
    """Lets file: (and data:, blob:) requests through; aborts and records the rest."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            self.requests.append(url)
            route.abort("internetdisconnected")


@pytest.fixture(scope="module")
def browser_page(browser: Browser) -> Iterator[tuple[Page, Outside]]:
    outside = Outside()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/*", outside)
    context.set_default_timeout(20_000)
    yield context.new_page(), outside
    context.close()


def test_every_page_renders_from_files_without_the_network(
    site: Path, browser_page: tuple[Page, Outside]
) -> None:
    page, outside = browser_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    pages = nav_pages(site)
    assert {"index.html", "tutorial.html", "http-api.html", "command-line.html"} <= set(pages)
    for name in pages:
        page.goto((site / name).as_uri())
        page.wait_for_load_state("load")
        header = page.locator(".md-header")
        assert header.evaluate("e => getComputedStyle(e).backgroundColor") == INDIGO, name
        assert page.locator(".md-nav__link").count() > 10, name
        assert page.locator(".md-search__input").is_visible(), name
    assert outside.requests == []
    assert errors == []


def test_search_works_offline(site: Path, browser_page: tuple[Page, Outside]) -> None:
    page, outside = browser_page
    page.goto((site / "index.html").as_uri())
    page.fill(".md-search__input", "bakery oven")
    first = page.locator(".md-search-result__item").first
    # The index is built in a web worker at the page's start: under a whole suite's
    # load (-n auto on 2 cores) once more than the default 20 s.
    first.wait_for(timeout=60_000)
    assert "Writing your own domain" in first.inner_text()
    assert outside.requests == []


def test_the_built_html_names_no_other_host_for_assets(site: Path) -> None:
    # Scripts, styles, images and fonts come from the site itself (links to other
    # sites in the text would be fine; there are none at the moment either).
    for path in site.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        for marker in ('src="http', "src='http", 'rel="stylesheet" href="http', "@import url(http"):
            assert marker not in html, f"{path.name}: {marker}"
