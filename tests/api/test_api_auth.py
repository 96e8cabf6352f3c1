"""Trusted identity: the identity header only from `trusted_proxies`, empty keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiConfiguration, ApiLauncher
from algomancy_api.cli.serve import overrides_from, parse_serve
from algomancy_api.middleware.auth import identity_name
from algomancy_core import ConfigurationError
from tests.api.conftest import api_config
from tests.server import ServerProcess

USER = "X-Forwarded-User"
PROXY = ("10.0.0.5", 40000)
OUTSIDER = ("203.0.113.9", 40000)


@pytest.fixture
def peer_client() -> Iterator[Any]:
    """`make(peer, **config)`: a client whose requests come from `peer`."""
    clients: list[TestClient] = []

    def make(peer: tuple[str, int], **overrides: Any) -> TestClient:
        values: dict[str, Any] = {
            "identity_header": USER,
            "trusted_proxies": ["10.0.0.0/24"],
        }
        app = ApiLauncher.build(api_config(**(values | overrides)))
        client = TestClient(app, raise_server_exceptions=False, client=peer)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_identity_header_is_honoured_from_a_trusted_proxy(peer_client: Any) -> None:
    client = peer_client(PROXY)
    r = client.get("/me", headers={USER: "carol"})
    assert r.json() == {"id": "carol", "username": "carol", "authenticated": True}


@pytest.mark.parametrize("path", ["/me", "/api/v1/sessions", "/api/v1/sessions/main/data"])
def test_identity_header_from_elsewhere_is_401_naming_why(peer_client: Any, path: str) -> None:
    client = peer_client(OUTSIDER)
    r = client.get(path, headers={USER: "carol"})
    assert r.status_code == 401
    assert "trusted proxy" in r.json()["detail"] and USER in r.json()["detail"]


def test_identity_header_from_elsewhere_is_401_even_with_a_valid_key(peer_client: Any) -> None:
    client = peer_client(OUTSIDER, api_keys={"k-bob": "bob"})
    assert client.get("/me", headers={"X-API-Key": "k-bob"}).json()["username"] == "bob"
    r = client.get("/me", headers={"X-API-Key": "k-bob", USER: "carol"})
    assert r.status_code == 401


def test_ipv6_and_single_address_proxies(peer_client: Any) -> None:
    client = peer_client(("::1", 40000), trusted_proxies="127.0.0.1, ::1")
    assert client.get("/me", headers={USER: "dan"}).json()["username"] == "dan"
    mapped = peer_client(("::ffff:127.0.0.1", 40000), trusted_proxies=["127.0.0.1"])
    assert mapped.get("/me", headers={USER: "dan"}).json()["username"] == "dan"


def test_empty_identity_header_from_a_proxy_is_401(peer_client: Any) -> None:
    client = peer_client(PROXY)
    assert client.get("/me", headers={USER: "  "}).status_code == 401


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("ops\u00a0".encode(), "ends with whitespace (U+00A0)"),  # no-break space
        ("\u2003ops".encode(), "starts with whitespace (U+2003)"),  # em space
        ("ops\u3000".encode(), "ends with whitespace (U+3000)"),  # ideographic space
        ("ops\u200b".encode(), "invisible character (U+200B)"),  # zero-width space
        ("o\u200dps".encode(), "invisible character (U+200D)"),  # zero-width joiner
        ("\ufeffops".encode(), "invisible character (U+FEFF)"),  # byte order mark
        ("ops\u202e".encode(), "invisible character (U+202E)"),  # right-to-left override
        ("ops\u2028x".encode(), "invisible character (U+2028)"),  # line separator
        (b"ops\x7f", "control or invisible character (U+007F)"),
        ("ops\x85x".encode(), "(U+0085)"),  # next line
    ],
)
def test_identity_values_are_taken_as_sent_or_refused(
    peer_client: Any, value: bytes, why: str
) -> None:
    """`ops` and a no-break space was trimmed into the administrator `ops`."""
    client = peer_client(PROXY, admin_users=["ops"])
    assert client.get("/me", headers={USER: "ops"}).json()["username"] == "ops"
    r = client.get("/me", headers=[(USER.encode(), value)])
    assert r.status_code == 401, r.text
    assert USER in r.json()["detail"] and why in r.json()["detail"]
    assert client.get("/api/v1/sessions", headers=[(USER.encode(), value)]).status_code == 401


@pytest.mark.parametrize("name", ["Zoë Müller", "ops admin", "運用", "a.b@example.com"])
def test_identity_values_are_kept_byte_for_byte(peer_client: Any, name: str) -> None:
    client = peer_client(PROXY)
    r = client.get("/me", headers=[(USER.encode(), name.encode())])
    assert r.json()["username"] == name


def test_identity_values_must_be_utf8() -> None:
    # TestClient re-encodes header bytes, so the check is called directly.
    assert identity_name(b"\xffops") == (None, "is not valid UTF-8")
    assert identity_name("Zoë".encode()) == ("Zoë", "")


def test_a_repeated_identity_header_is_refused(peer_client: Any) -> None:
    client = peer_client(PROXY)
    r = client.get("/me", headers=[(USER.encode(), b"ann"), (USER.encode(), b"ops")])
    assert r.status_code == 401 and "2 times" in r.json()["detail"]


def test_forwarded_for_cannot_make_a_peer_trusted(peer_client: Any) -> None:
    """`forwarded_allow_ips` rewrites the client from X-Forwarded-For; the trust in
    a proxy is judged on the real TCP peer all the same."""
    client = peer_client(OUTSIDER, forwarded_allow_ips="*")
    r = client.get("/me", headers={USER: "carol", "X-Forwarded-For": "10.0.0.5"})
    assert r.status_code == 401
    # From the proxy itself, a forwarded client address does not undo the trust.
    proxied = peer_client(PROXY, forwarded_allow_ips="*")
    r = proxied.get("/me", headers={USER: "carol", "X-Forwarded-For": "203.0.113.9"})
    assert r.json()["username"] == "carol"


def test_empty_api_key_is_a_missing_key(peer_client: Any) -> None:
    client = peer_client(OUTSIDER, api_keys={"k-bob": "bob"})
    for headers in (
        {"X-API-Key": ""},
        {"X-API-Key": " "},
        {"Authorization": "Bearer "},
        {"X-API-Key": "", USER: "carol"},
        {"Authorization": "Bearer", USER: "carol"},
    ):
        assert client.get("/me", headers=headers).status_code == 401, headers


def test_unknown_key_is_401_naming_it(peer_client: Any) -> None:
    client = peer_client(OUTSIDER, api_keys={"k-bob": "bob"})
    r = client.get("/me", headers={"X-API-Key": "nope"})
    assert r.status_code == 401 and "not known" in r.json()["detail"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"identity_header": USER}, "identity_header: needs trusted_proxies"),
        ({"trusted_proxies": ["proxy.example"]}, "trusted_proxies: 'proxy.example'"),
        ({"trusted_proxies": ["10.0.0.0/33"]}, "trusted_proxies"),
        ({"trusted_proxies": [""]}, "trusted_proxies"),
        ({"admin_users": [""]}, "admin_users"),
        ({"admin_users": 3}, "admin_users"),
        ({"admin_users": ["root"]}, "admin_users: needs authentication"),
    ],
)
def test_configuration_is_checked(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ApiConfiguration(**values)


def test_configuration_accepts_comma_separated_strings() -> None:
    cfg = ApiConfiguration(
        trusted_proxies="10.0.0.1, fd00::/8", admin_users="root,ops", api_keys={"k": "root"}
    )
    assert cfg.trusted_proxies == ["10.0.0.1", "fd00::/8"]
    assert cfg.admin_users == ["root", "ops"]
    assert ApiConfiguration().trusted_proxies == [] and ApiConfiguration().admin_users == []


def test_serve_flags() -> None:
    args = parse_serve(
        ["--example", "--trusted-proxies", "10.0.0.1,10.1.0.0/16", "--admin-users", "root"]
    )
    overrides = overrides_from(args)
    assert overrides["trusted_proxies"] == "10.0.0.1,10.1.0.0/16"
    assert overrides["admin_users"] == "root"
    assert "trusted_proxies" not in overrides_from(parse_serve(["--example"]))


CONFIG_MODULE = """
from algomancy_api.example import build_example_config

config = build_example_config(
    has_persistent_state=False,
    identity_header="X-Forwarded-User",
    trusted_proxies=["192.0.2.1"],
)
"""


@pytest.mark.slow  # a real server process
@pytest.mark.parametrize(
    ("flags", "trusted"),
    [
        (["--trusted-proxies", "127.0.0.1"], True),
        (["--trusted-proxies", "10.0.0.1"], False),
        # uvicorn's forwarded handling rewrites the client; the trust does not follow.
        (["--trusted-proxies", "10.0.0.1", "--forwarded-allow-ips", "*"], False),
    ],
    ids=["trusted", "untrusted", "untrusted-forwarded"],
)
def test_identity_header_against_a_real_server(
    tmp_path: Path, flags: list[str], trusted: bool
) -> None:
    (tmp_path / "identity_cfg.py").write_text(CONFIG_MODULE)
    with ServerProcess(["--config", "identity_cfg:config", *flags], tmp_path) as server:
        headers = {"X-Forwarded-User": "carol", "X-Forwarded-For": "10.0.0.1"}
        r = httpx.get(f"{server.base}/me", headers=headers)
        if trusted:
            assert r.json()["username"] == "carol"
        else:
            assert r.status_code == 401 and "trusted proxy" in r.json()["detail"]
        assert httpx.get(f"{server.base}/health").status_code == 200
