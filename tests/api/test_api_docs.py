"""`/docs` and `/redoc` load only assets the server serves itself."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from .conftest import ClientFactory


def asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


def test_docs_pages_use_local_assets_only(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        urls = asset_urls(r.text)
        assert urls, path
        assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
        assert "<script>" not in r.text  # no inline script: a strict CSP keeps working
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) < 2 * 1024 * 1024, url


def test_docs_assets_are_the_vendored_files(client: TestClient) -> None:
    js = client.get("/vendor/swagger-ui/swagger-ui-bundle.js")
    assert js.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert b"SwaggerUIBundle" in js.content
    assert b"Redoc" in client.get("/vendor/redoc/redoc.standalone.js").content
    assert client.get("/vendor/swagger-ui/LICENSE").status_code == 200
    assert client.get("/vendor/nope.js").status_code == 404
    assert client.get("/vendor/../config.py").status_code == 404


def test_docs_honour_root_path(make_client: ClientFactory) -> None:
    client = make_client()
    page = client.get("/docs", headers={}, params={}).text
    assert 'data-openapi-url="/openapi.json"' in page
    client.app.root_path = "/algo"  # type: ignore[attr-defined]
    page = client.get("/docs").text
    assert 'data-openapi-url="/algo/openapi.json"' in page
    assert 'src="/algo/vendor/swagger-ui/swagger-ui-bundle.js"' in page


def test_assets_need_no_credentials(make_client: ClientFactory) -> None:
    client = make_client(api_keys={"k": "alice"}, public_docs=False)
    assert client.get("/docs").status_code == 401
    assert client.get("/vendor/swagger-ui/swagger-ui.css").status_code == 200
    assert client.get("/static/swagger-init.js").status_code == 200
