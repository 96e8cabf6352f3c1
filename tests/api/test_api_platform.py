"""`/health`, `/me`, authentication, CORS, configuration and the OpenAPI contract."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import algomancy_api
from algomancy_api import ApiConfiguration, ApiLauncher
from algomancy_api.loading import ConfigLoadError, load_config
from algomancy_core import ConfigurationError, CoreConfig

from .conftest import PREFIX, ClientFactory, api_config

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")


def test_public_surface() -> None:
    assert algomancy_api.__all__ == sorted(algomancy_api.__all__)
    assert algomancy_api.__all__ == [
        "AlgomancyClient",
        "AlgomancyError",
        "ApiConfiguration",
        "ApiLauncher",
    ]


def test_health_and_me(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["store"] == "MemoryStore"
    assert client.get("/me").json() == {
        "id": "anonymous",
        "username": "anonymous",
        "authenticated": False,
    }


def test_api_keys(make_client: ClientFactory) -> None:
    client = make_client(api_keys={"k-alice": "alice", "k-bob": "bob"}, public_docs=False)
    assert client.get("/health").status_code == 200
    for path in ("/me", f"{PREFIX}/sessions", "/docs", "/openapi.json"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.json()["detail"].startswith("authentication required")
    assert client.get("/me", headers={"X-API-Key": "wrong"}).status_code == 401
    alice = {"Authorization": "Bearer k-alice"}
    bob = {"X-API-Key": "k-bob"}
    assert client.get("/me", headers=alice).json()["username"] == "alice"
    created = client.post(f"{PREFIX}/sessions", json={"display_name": "private"}, headers=alice)
    sid = created.json()["session"]["id"]
    names = [
        s["display_name"] for s in client.get(f"{PREFIX}/sessions", headers=bob).json()["sessions"]
    ]
    assert names == ["main"]
    assert client.get(f"{PREFIX}/sessions/{sid}/data", headers=bob).status_code == 404
    assert client.get(f"{PREFIX}/sessions/{sid}/data", headers=alice).status_code == 200


def test_identity_header(make_client: ClientFactory) -> None:
    # TestClient's peer is "testclient", not an address: trusted by no network.
    client = make_client(identity_header="X-Forwarded-User", trusted_proxies=["0.0.0.0/0"])
    client = TestClient(client.app, client=("192.0.2.1", 1000))
    assert client.get("/me").status_code == 401
    assert client.get("/docs").status_code == 200  # public docs by default
    r = client.get("/me", headers={"X-Forwarded-User": "carol"})
    assert r.json() == {"id": "carol", "username": "carol", "authenticated": True}


def test_cors(make_client: ClientFactory) -> None:
    client = make_client(cors_origins=["http://app.example"])
    r = client.options(
        f"{PREFIX}/sessions",
        headers={"Origin": "http://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert r.headers["access-control-allow-origin"] == "http://app.example"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"prefix": "api"}, "prefix"),
        ({"port": 70000}, "port"),
        ({"host": ""}, "host"),
        ({"cors_origins": "http://x"}, "cors_origins"),
        ({"max_upload_bytes": 0}, "max_upload_bytes"),
        ({"api_keys": {"": "a"}}, "api_keys"),
    ],
)
def test_configuration_names_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^{field}:"):
        ApiConfiguration(**values)  # type: ignore[arg-type]


def test_build_accepts_config_core_config_and_dict() -> None:
    core = CoreConfig(title="core")
    for config in (api_config(title="api"), core, {"title": "dict", "port": 9000}):
        app = ApiLauncher.build(config)  # type: ignore[arg-type]
        assert isinstance(app, FastAPI)
    assert ApiLauncher.build({"title": "dict"}).title == "dict"
    with pytest.raises(ConfigurationError, match=r"^colour:"):
        ApiLauncher.build({"colour": "red"})


def test_load_config_errors() -> None:
    for spec, word in [
        ("nocolon", "module:attribute"),
        ("no_such_module_xyz:cfg", "cannot import"),
        ("json:nothing_here", "has no"),
        ("json:__doc__", "expected"),
    ]:
        with pytest.raises(ConfigLoadError, match=word):
            load_config(spec)


def test_openapi_matches_the_snapshot(client: TestClient) -> None:
    """The contract changes only on purpose: regenerate with UPDATE_OPENAPI_SNAPSHOT=1."""
    schema = client.get("/openapi.json").json()
    schema["info"]["version"] = "snapshot"
    text = json.dumps(schema, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.write_text(text)
    assert text == SNAPSHOT.read_text()


def test_every_route_is_documented(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("description"), (method, path)
            assert operation["operationId"].count("-") >= 1
    frames = [
        p
        for p, ops in schema["paths"].items()
        if ops.get("get", {}).get("x-ui-contract") == "core.tabular_frame@v1"
    ]
    # result tables, datasets, KPIs, experiments, run reports, study trials, Pareto
    assert len(frames) == 7
    assert "TabularFrameResponse" in schema["components"]["schemas"]
