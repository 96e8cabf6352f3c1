"""The web app's page at `/`, its files, and turning it off."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiConfiguration
from algomancy_api.webapp import HERE, STATIC_DIR, VENDOR_DIR
from algomancy_core import ConfigurationError
from tests.fixtures import TESTS
from tests.server import ServerProcess

from .conftest import ClientFactory, api_config


def test_the_app_is_served_at_the_root(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<meta name="algomancy-api" content="/api/v1">' in r.text
    assert "<script>" not in r.text  # no inline script
    for url in re.findall(r'(?:src|href)="([^"]+)"', r.text):
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url


def test_every_module_the_app_imports_is_served(client: TestClient) -> None:
    for script in sorted(STATIC_DIR.glob("*.js")):
        source = script.read_text()
        for target in re.findall(r'from "(\.[^"]+)"', source):
            url = "/" + (STATIC_DIR / target).resolve().relative_to(HERE).as_posix()
            assert client.get(url).status_code == 200, (script.name, target)


def test_the_app_honours_prefix_and_root_path(make_client: ClientFactory) -> None:
    client = make_client(prefix="/algomancy")
    client.app.root_path = "/proxy"  # type: ignore[attr-defined]
    page = client.get("/").text
    assert '<meta name="algomancy-api" content="/proxy/algomancy">' in page
    assert 'src="/proxy/static/app.js"' in page


def test_no_ui(make_client: ClientFactory) -> None:
    client = make_client(ui=False)
    assert client.get("/").status_code == 404
    assert client.get("/docs").status_code == 200  # the docs stay


def test_ui_must_be_a_boolean() -> None:
    with pytest.raises(ConfigurationError, match="ui"):
        api_config(ui="no")
    assert ApiConfiguration().ui is True


@pytest.mark.slow
def test_serve_no_ui_flag(tmp_path: Path) -> None:
    """`algomancy-api serve --no-ui`: no app at `/`; the API and the docs stay."""
    with ServerProcess(["--example", "--in-memory", "--no-ui"], tmp_path) as server:
        assert httpx.get(f"{server.base}/").status_code == 404
        assert httpx.get(f"{server.base}/docs").status_code == 200
        assert httpx.get(f"{server.base}/api/v1/sessions").status_code == 200
    with ServerProcess(["--example", "--in-memory"], tmp_path) as server:
        assert httpx.get(f"{server.base}/").status_code == 200


def test_app_page_needs_no_credentials_but_the_api_does(make_client: ClientFactory) -> None:
    client = make_client(api_keys={"k": "alice"}, public_docs=False)
    assert client.get("/").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/api/v1/sessions").status_code == 401


def test_package_data_ships_every_asset() -> None:
    """A wheel holds what `package-data` names: every file of the app and its vendors."""
    pyproject = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["algomancy_api"]
    root = HERE.parent
    files = [p for d in (STATIC_DIR, VENDOR_DIR) for p in d.rglob("*") if p.is_file()]
    assert len(files) > 15
    for path in files:
        name = str(path.relative_to(root))
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
        assert path.stat().st_size < 2 * 1024 * 1024, name


def test_every_vendored_library_has_its_licence() -> None:
    for folder in (p for p in VENDOR_DIR.iterdir() if p.is_dir()):
        assert any(f.name.startswith("LICENSE") for f in folder.iterdir()), folder.name
    versions = (VENDOR_DIR / "VERSIONS.md").read_text()
    for name in ("swagger-ui-dist", "redoc", "htm", "chart.js"):
        assert f"`{name}`" in versions
