"""The reference's settings: allow_session_create, forwarded_allow_ips, default_algo."""

from __future__ import annotations

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from algomancy_api import ApiConfiguration
from algomancy_api.cli import overrides_from, parse_serve
from algomancy_api.example import build_example_config
from algomancy_core import ConfigurationError

from .conftest import MAIN, PREFIX, ClientFactory


def test_session_create_and_copy_can_be_disabled(make_client: ClientFactory) -> None:
    client = make_client(allow_session_create=False)
    created = client.post(f"{PREFIX}/sessions", json={"display_name": "x"})
    assert created.status_code == 403
    assert created.json() == {"detail": "Session creation is disabled on this server"}
    copied = client.post(f"{MAIN}/copy", json={"new_display_name": "y"})
    assert copied.status_code == 403
    # Everything else still works, and nothing was created.
    assert [s["display_name"] for s in client.get(f"{PREFIX}/sessions").json()["sessions"]] == [
        "main"
    ]
    assert client.patch(f"{MAIN}", json={"display_name": "main"}).status_code == 200


def test_session_create_is_allowed_by_default(client: TestClient) -> None:
    assert client.post(f"{PREFIX}/sessions", json={"display_name": "x"}).status_code == 201


def _where(client: TestClient) -> None:
    def where(request: Request) -> dict[str, str | None]:
        host = request.client.host if request.client else None
        return {"client": host, "scheme": request.url.scheme}

    client.app.add_api_route("/where", where)  # type: ignore[attr-defined]


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


@pytest.mark.parametrize("trusted", ["*", ["testclient", "10.0.0.1"]])
def test_forwarded_headers_are_trusted_from_allowed_addresses(
    make_client: ClientFactory, trusted: str | list[str]
) -> None:
    client = make_client(forwarded_allow_ips=trusted)
    _where(client)
    assert client.get("/where", headers=FORWARDED).json() == {
        "client": "203.0.113.7",
        "scheme": "https",
    }


@pytest.mark.parametrize("trusted", [None, "10.0.0.1"])
def test_forwarded_headers_are_ignored_otherwise(
    make_client: ClientFactory, trusted: str | None
) -> None:
    client = make_client(forwarded_allow_ips=trusted)
    _where(client)
    assert client.get("/where", headers=FORWARDED).json() == {
        "client": "testclient",
        "scheme": "http",
    }


def test_serve_flag_sets_forwarded_allow_ips() -> None:
    args = parse_serve(["--example", "--forwarded-allow-ips", "10.0.0.1,10.0.0.2"])
    assert overrides_from(args)["forwarded_allow_ips"] == "10.0.0.1,10.0.0.2"


@pytest.mark.parametrize("bad", ["", "  ", [], [""], 5])
def test_bad_forwarded_allow_ips_is_refused(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="forwarded_allow_ips"):
        ApiConfiguration(forwarded_allow_ips=bad)  # type: ignore[arg-type]


def test_autocreate_uses_default_algo_and_its_values(make_client: ClientFactory) -> None:
    client = make_client(
        autocreate=True,
        default_algo="ABC slotting",
        default_algo_params_values={"policy": "class_based"},
    )
    derived = client.post(f"{MAIN}/data/Master data/derive", json={"new_key": "copy"})
    assert derived.status_code == 201
    scenarios = client.get(f"{MAIN}/scenarios").json()
    assert [(s["tag"], s["input_data_id"]) for s in scenarios] == [("ABC slotting on copy", "copy")]
    values = {p["name"]: p["value"] for p in scenarios[0]["algorithm"]["parameters"]}
    assert values["policy"] == "class_based"


def test_default_algo_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="default_algo: no algorithm named 'Nope'"):
        ApiConfiguration(default_algo="Nope")
    with pytest.raises(ConfigurationError, match="default_algo_params_values"):
        ApiConfiguration(default_algo_params_values={"x": 1})
    with pytest.raises(ConfigurationError, match=r"default_algo_params_values: .*policy"):
        build_example_config(default_algo="ABC slotting", default_algo_params_values={"policy": 1})
