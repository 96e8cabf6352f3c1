"""Security headers on every answer: CSP, frame-ancestors, nosniff, Referrer-Policy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiConfiguration
from algomancy_api.middleware.headers import NOTHING_POLICY, PAGE_POLICY, REDOC_POLICY
from algomancy_core import ConfigurationError

from .conftest import PREFIX, ClientFactory

M = f"{PREFIX}/sessions/main"


def policy(answer: object) -> str:
    return answer.headers["content-security-policy"]  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/health", NOTHING_POLICY),
        ("GET", f"{M}/data", NOTHING_POLICY),
        ("GET", f"{M}/data/Master data", NOTHING_POLICY),
        ("GET", f"{M}/data/Master data/tables/items/download", NOTHING_POLICY),
        ("GET", "/openapi.json", NOTHING_POLICY),
        ("GET", "/static/app.js", NOTHING_POLICY),
        ("GET", f"{M}/nothing-here", NOTHING_POLICY),  # 404
        ("POST", f"{M}/scenarios", NOTHING_POLICY),  # 415 from the site check
        ("GET", "/", PAGE_POLICY),
        ("GET", "/docs", PAGE_POLICY),
        ("GET", "/redoc", REDOC_POLICY),
    ],
)
def test_every_answer_carries_the_headers(
    client: TestClient, method: str, path: str, expected: str
) -> None:
    r = client.request(method, path, content=b"x", headers={"Content-Type": "text/plain"})
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert policy(r) == f"{expected}; frame-ancestors 'none'"
    assert r.headers.get_list("content-security-policy") == [policy(r)]


def test_pages_load_nothing_from_elsewhere_and_run_no_inline_script() -> None:
    for page in (PAGE_POLICY, REDOC_POLICY):
        directives = dict(d.split(" ", 1) for d in page.split("; "))
        assert directives["script-src"] == "'self'"
        assert "http" not in page and "*" not in page
    assert "unsafe-inline" not in PAGE_POLICY


def test_refusals_outside_the_app_carry_them_too(make_client: ClientFactory) -> None:
    client = make_client(api_keys={"k": "ann"})
    for r in (
        client.get(f"{M}/data"),  # 401 from the credentials check
        client.get("/health", headers={"Host": "evil.example"}),  # 400 from the Host check
    ):
        assert r.status_code in (400, 401)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert policy(r).startswith(NOTHING_POLICY)


def test_an_unhandled_errors_500_carries_them(make_client: ClientFactory) -> None:
    """Starlette answers it from outside every middleware the app adds."""
    client = make_client()
    app = client.app

    @app.get("/boom")  # type: ignore[attr-defined,untyped-decorator]
    def boom() -> None:
        raise RuntimeError("boom")

    r = client.get("/boom")
    assert r.status_code == 500
    assert r.headers["x-content-type-options"] == "nosniff"
    assert policy(r).startswith(NOTHING_POLICY)


def test_frame_ancestors_is_configurable(make_client: ClientFactory) -> None:
    client = make_client(frame_ancestors="'self' https://portal.example")
    for path in ("/", "/health"):
        assert policy(client.get(path)).endswith("; frame-ancestors 'self' https://portal.example")


@pytest.mark.parametrize(
    "value", ["", "  ", "'none'; script-src *", "a, b", "'self'\r\nSet-Cookie: x=1", 42]
)
def test_frame_ancestors_is_checked(value: object) -> None:
    with pytest.raises(ConfigurationError, match="frame_ancestors"):
        ApiConfiguration(frame_ancestors=value)  # type: ignore[arg-type]


def test_the_default_frames_nowhere() -> None:
    assert ApiConfiguration().frame_ancestors == "'none'"
