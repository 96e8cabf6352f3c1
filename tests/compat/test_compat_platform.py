"""Smaller reference behaviours: health, title, CORS, the 500 detail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from algomancy_api import ApiConfiguration

from .conftest import MAIN, ClientFactory


def test_health_carries_the_title(make_client: ClientFactory) -> None:
    body = make_client(title="Warehouse").get("/health").json()
    assert body["status"] == "ok" and body["title"] == "Warehouse"


def test_default_title() -> None:
    assert ApiConfiguration().title == "Algomancy API"


def test_cors_allows_credentials(make_client: ClientFactory) -> None:
    client = make_client(cors_origins=["http://app.example"])
    r = client.options(
        f"{MAIN}/scenarios",
        headers={"Origin": "http://app.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-allow-origin"] == "http://app.example"


def test_unexpected_error_is_a_plain_500(client: TestClient) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals")

    client.app.add_api_route("/boom", broken)  # type: ignore[attr-defined]
    r = client.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal server error"}
