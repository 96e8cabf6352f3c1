"""Cross-site safety: the Host check, the Origin check on writes, JSON content types."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiConfiguration, ApiLauncher
from algomancy_api.cli.serve import overrides_from, parse_serve
from algomancy_api.client._base import headers as client_headers
from algomancy_api.middleware.sitecheck import default_allowed_hosts, in_process
from algomancy_core import ConfigurationError
from algomancy_data import DataSource
from tests.core.conftest import items
from tests.server import ServerProcess

from .conftest import PREFIX, ClientFactory, api_config

M = f"{PREFIX}/sessions/main"
EVIL = "http://evil.example"
SCENARIO = {"tag": "t", "dataset_key": "Master data", "algo_name": "Instant"}


def dataset_json(name: str = "sent") -> bytes:
    data = items()
    return DataSource(name, tables={"items": data.get_table("items")}).to_json().encode()


# -- content types -------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_from_json_sent_as_a_simple_request_is_415(client: TestClient, content_type: str) -> None:
    """`from-json` reads the raw body: without the check it stored a `text/plain`
    body (a "simple" request any web page can send cross-site)."""
    r = client.post(
        f"{M}/data/from-json", content=dataset_json(), headers={"Content-Type": content_type}
    )
    assert r.status_code == 415
    assert "application/json" in r.json()["detail"] and content_type in r.json()["detail"]
    assert "sent" not in client.get(f"{M}/data").json()["keys"]


def test_apps_with_the_same_routes_share_one_body_table(make_client: ClientFactory) -> None:
    """The content-type check reads the OpenAPI document once per set of routes (the
    tests' apps each built it for their first upload, ~0.4 s of CPU apiece); an app
    of other routes (another prefix) still reads its own."""
    built: list[str] = []

    def counted(client: TestClient, name: str) -> TestClient:
        build = client.app.openapi  # type: ignore[attr-defined]

        def openapi() -> dict[str, object]:
            built.append(name)
            return build()  # type: ignore[no-any-return]

        client.app.openapi = openapi  # type: ignore[attr-defined]
        return client

    plain = {"Content-Type": "text/plain"}
    first = counted(make_client(prefix="/shared-table"), "first")
    second = counted(make_client(prefix="/shared-table"), "second")
    other = counted(make_client(prefix="/other-table"), "other")
    for client, prefix in (
        (first, "/shared-table"),
        (second, "/shared-table"),
        (other, "/other-table"),
    ):
        url = f"{prefix}/sessions/main/data/from-json"
        r = client.post(url, content=dataset_json(), headers=plain)
        assert r.status_code == 415, r.text
    assert built == ["first", "other"]


def test_a_json_body_without_content_type_is_read_as_json(client: TestClient) -> None:
    """The seed posts the raw bytes of `to_json()` with no Content-Type at all (as
    `curl --data-binary @file` without `-H`); FastAPI reads such bodies as JSON too."""
    r = client.post(f"{M}/data/from-json", content=dataset_json())
    assert r.status_code == 201, r.text
    assert "sent" in r.json()["keys"]
    assert client.post(f"{M}/sessions", content=b'{"display_name": "x"}').status_code != 415


def test_a_body_without_content_type_from_another_site_is_403(client: TestClient) -> None:
    """A page can send a typeless body cross-site (`fetch` of a Blob without a
    type): its `Origin` gives it away."""
    r = client.post(f"{M}/data/from-json", content=dataset_json(), headers={"Origin": EVIL})
    assert r.status_code == 403
    assert "sent" not in client.get(f"{M}/data").json()["keys"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
def test_the_types_a_form_sends_are_415_on_every_json_route(
    client: TestClient, content_type: str
) -> None:
    for path in (f"{M}/data/from-json", f"{M}/scenarios", f"{PREFIX}/sessions"):
        r = client.post(path, content=b"{}", headers={"Content-Type": content_type})
        assert r.status_code == 415, (path, r.text)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"{M}/scenarios", SCENARIO),
        (f"{PREFIX}/sessions", {"display_name": "x"}),
        (f"{M}/data/Master data/derive", {"new_key": "copy"}),
    ],
)
def test_model_routes_need_json_too(client: TestClient, path: str, body: dict[str, str]) -> None:
    import json

    sent = json.dumps(body)
    r = client.post(path, content=sent, headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, r.text
    assert client.post(path, json=body).status_code == 201


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "application/x+json"]
)
def test_json_content_types_pass(client: TestClient, content_type: str) -> None:
    r = client.post(
        f"{M}/data/from-json", content=dataset_json(), headers={"Content-Type": content_type}
    )
    assert r.status_code == 201, r.text


def test_bodyless_writes_and_multipart_need_no_json(client: TestClient) -> None:
    scenario_id = client.post(f"{M}/scenarios", json=SCENARIO).json()["id"]
    assert client.post(f"{M}/scenarios/{scenario_id}/run").status_code == 202
    files = {"files": ("items.csv", b"qty\n1\n2\n", "text/csv")}
    r = client.post(f"{M}/etl", files=files, data={"dataset_name": "up"})
    assert r.status_code == 200, r.text


# -- the Origin of writes ------------------------------------------------------------


def test_cross_site_write_is_403(client: TestClient) -> None:
    r = client.post(f"{M}/scenarios", json=SCENARIO, headers={"Origin": EVIL})
    assert r.status_code == 403
    assert "evil.example" in r.json()["detail"] and "X-Requested-With" in r.json()["detail"]
    assert client.get(f"{M}/scenarios").json() == []


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_write_method_is_checked(client: TestClient, method: str) -> None:
    r = client.request(method, f"{M}/data/Master data", headers={"Origin": "null"})
    assert r.status_code == 403


def test_cross_site_multipart_etl_is_403_unless_marked(client: TestClient) -> None:
    files = {"files": ("items.csv", b"qty\n1\n", "text/csv")}
    form = {"dataset_name": "up"}
    r = client.post(f"{M}/etl", files=files, data=form, headers={"Origin": EVIL})
    assert r.status_code == 403
    marked = {"Origin": EVIL, "X-Requested-With": "XMLHttpRequest"}
    assert client.post(f"{M}/etl", files=files, data=form, headers=marked).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, scripts
        {"Origin": "http://testserver"},  # the web app, same origin
        {"Origin": "http://testserver:80"},  # the same, port spelt out
        {"Origin": EVIL, "X-Requested-With": "algomancy-client"},
    ],
)
def test_writes_that_pass(client: TestClient, headers: dict[str, str]) -> None:
    r = client.post(f"{M}/scenarios", json=SCENARIO, headers=headers)
    assert r.status_code == 201, r.text


def test_a_configured_cors_origin_may_write(make_client: ClientFactory) -> None:
    client = make_client(cors_origins=["http://app.example"])
    ok = client.post(f"{M}/scenarios", json=SCENARIO, headers={"Origin": "http://app.example"})
    assert ok.status_code == 201
    other = client.post(f"{M}/scenarios", json=SCENARIO, headers={"Origin": EVIL})
    assert other.status_code == 403


def test_same_origin_must_match_the_port(client: TestClient) -> None:
    headers = {"Origin": "http://localhost:9999", "Host": "localhost:8051"}
    assert client.post(f"{M}/scenarios", json=SCENARIO, headers=headers).status_code == 403
    headers = {"Origin": "http://localhost:8051", "Host": "localhost:8051"}
    assert client.post(f"{M}/scenarios", json=SCENARIO, headers=headers).status_code == 201


def test_reads_with_a_foreign_origin_pass(client: TestClient) -> None:
    assert client.get(f"{M}/data", headers={"Origin": EVIL}).status_code == 200


def test_the_python_client_marks_its_requests() -> None:
    assert client_headers(None)["X-Requested-With"] == "algomancy-client"


# -- the Host header -----------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8051", "127.0.0.1.evil.example"])
def test_an_unknown_host_is_400_naming_it(make_client: ClientFactory, host: str) -> None:
    client = make_client(allowed_hosts=None)  # the default, bound to 127.0.0.1
    r = client.get("/health", headers={"Host": host})
    assert r.status_code == 400
    assert repr(host) in r.json()["detail"] and "allowed_hosts" in r.json()["detail"]


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8051", "127.0.0.1:1234", "[::1]:8051", "LOCALHOST"]
)
def test_the_default_serves_the_loopback_names(make_client: ClientFactory, host: str) -> None:
    client = make_client(allowed_hosts=None)
    assert client.get("/health", headers={"Host": host}).status_code == 200


def test_testclient_is_served_by_default(make_client: ClientFactory) -> None:
    """TestClient's `testserver` came through no socket: served, though not in the
    default `allowed_hosts`; another Host sent through it is still checked."""
    client = make_client(allowed_hosts=None)
    assert client.get("/health").status_code == 200
    assert client.get("/health", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize(
    ("bind", "hosts"),
    [
        ("127.0.0.1", ["localhost", "127.0.0.1", "[::1]"]),
        ("localhost", ["localhost", "127.0.0.1", "[::1]"]),
        ("::1", ["localhost", "127.0.0.1", "[::1]"]),
        ("127.0.0.2", ["localhost", "127.0.0.1", "[::1]", "127.0.0.2"]),
        ("0.0.0.0", ["*"]),
        ("192.168.1.10", ["*"]),
    ],
)
def test_default_allowed_hosts(bind: str, hosts: list[str]) -> None:
    assert default_allowed_hosts(bind) == hosts
    assert ApiConfiguration(host=bind).served_hosts == hosts


@pytest.mark.parametrize(
    ("allowed", "host", "served"),
    [
        (["api.example"], "api.example:443", True),
        (["api.example:8443"], "api.example:443", False),
        (["api.example:8443"], "api.example:8443", True),
        (["*.example"], "a.b.example", True),
        (["*.example"], "example", False),
        (["::1"], "[::1]:80", True),
        (["*"], "anything", True),
        (["api.example"], "api.example.", True),
    ],
)
def test_allowed_hosts_patterns(
    make_client: ClientFactory, allowed: list[str], host: str, served: bool
) -> None:
    client = make_client(allowed_hosts=allowed)
    assert (client.get("/health", headers={"Host": host}).status_code == 200) is served


def test_allowed_hosts_configuration() -> None:
    assert ApiConfiguration(allowed_hosts="a.example, b.example").allowed_hosts == [
        "a.example",
        "b.example",
    ]
    with pytest.raises(ConfigurationError, match="allowed_hosts"):
        ApiConfiguration(allowed_hosts=[])
    with pytest.raises(ConfigurationError, match="allowed_hosts"):
        ApiConfiguration(allowed_hosts=[""])
    args = parse_serve(["--example", "--allowed-hosts", "api.example,*.internal"])
    assert overrides_from(args)["allowed_hosts"] == "api.example,*.internal"


@pytest.mark.slow  # a real server process
def test_dns_rebinding_against_a_real_loopback_server(tmp_path: Path) -> None:
    """A page on evil.example whose name now resolves to 127.0.0.1 reaches the
    port, but its requests carry `Host: evil.example`. TestClient's `testserver` is
    no pass either: through a socket, only `allowed_hosts` count."""
    with ServerProcess(["--example", "--in-memory"], tmp_path) as server:
        assert httpx.get(f"{server.base}/health").status_code == 200  # Host 127.0.0.1:port
        for path in ("/health", f"{M}/data", "/"):
            r = httpx.get(f"{server.base}{path}", headers={"Host": f"evil.example:{server.port}"})
            assert r.status_code == 400, (path, r.text)
            assert "evil.example" in r.json()["detail"]
        for host in ("testserver", "evil.example", "test"):
            r = httpx.post(f"{server.base}/api/v1/sessions", headers={"Host": host}, json={})
            assert r.status_code == 400, (host, r.text)
        r = httpx.get(f"{server.base}/health", headers={"Host": f"localhost:{server.port}"})
        assert r.status_code == 200


# -- the OpenAPI document declares these answers -------------------------------------


def test_openapi_declares_the_refusals(make_client: ClientFactory) -> None:
    paths = make_client(api_keys={"k": "u"}).app.openapi()["paths"]
    from_json = paths[f"{PREFIX}/sessions/{{session_id}}/data/from-json"]["post"]["responses"]
    assert {"400", "401", "403", "415"} <= set(from_json)
    assert from_json["415"]["content"]["application/json"]["schema"]["required"] == ["detail"]
    run = paths[f"{PREFIX}/sessions/{{session_id}}/scenarios/{{scenario_id}}/run"]["post"]
    assert "403" in run["responses"] and "415" not in run["responses"]
    listing = paths[f"{PREFIX}/sessions"]["get"]["responses"]
    assert "403" not in listing and "401" in listing
    assert "401" not in paths["/health"]["get"]["responses"]


def test_openapi_declares_no_host_refusal_when_any_host_is_served(
    make_client: ClientFactory,
) -> None:
    paths = make_client(allowed_hosts=["*"]).app.openapi()["paths"]
    assert "400" not in paths["/health"]["get"]["responses"]
    assert "401" not in paths["/me"]["get"]["responses"]


def test_a_testclient_on_localhost_needs_no_configuration() -> None:
    """What docs/security.md tells users who test their own app with TestClient."""
    app = ApiLauncher.build(api_config(allowed_hosts=None))
    with TestClient(app, base_url="http://localhost") as local:
        assert local.get(f"{M}/data").status_code == 200
        assert local.post(f"{M}/scenarios", json=SCENARIO).status_code == 201


# -- in-process transports (TestClient, httpx's ASGITransport) -----------------------


def test_testclient_with_a_default_configuration_works(tmp_path: Path) -> None:
    """SPEC 3b: `TestClient(ApiLauncher.build(cfg))` with a default configuration;
    its Host is `testserver`, which no `allowed_hosts` default names."""
    cfg = api_config()
    cfg = cfg.replace(allowed_hosts=None)
    assert "testserver" not in cfg.served_hosts
    with TestClient(ApiLauncher.build(cfg)) as client:
        r = client.post(f"{PREFIX}/sessions", json={"display_name": "mine"})
        assert r.status_code == 201, r.text
        s = f"{PREFIX}/sessions/mine"
        r = client.post(f"{s}/data/from-json", content=dataset_json())
        assert r.status_code == 201, r.text
        files = {"files": ("items.csv", b"qty\n1\n2\n", "text/csv")}
        r = client.post(f"{s}/etl", files=files, data={"dataset_name": "up"})
        assert r.status_code == 200 and r.json()["dataset_name"] == "up", r.text
        r = client.post(f"{s}/scenarios", json=SCENARIO | {"dataset_key": "sent"})
        assert r.status_code == 201, r.text
        assert client.post(f"{s}/scenarios/{r.json()['id']}/run").status_code == 202
        assert client.get("/").status_code == 200
        assert client.get("/docs").status_code == 200


def test_httpx_asgi_transport_with_a_default_configuration_works() -> None:
    app = ApiLauncher.build(api_config(allowed_hosts=None))

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)  # the store opens on the first request
        async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
            return [
                (await client.get(f"{M}/data")).status_code,
                (await client.post(f"{M}/scenarios", json=SCENARIO)).status_code,
                (await client.get("/health", headers={"Host": "evil.example"})).status_code,
            ]

    try:
        assert anyio.run(main) == [200, 201, 400]
    finally:
        app.state.sessions.close()


@pytest.mark.parametrize(
    ("server", "served"),
    [
        (("testserver", 80), True),  # TestClient
        (("app.test", None), True),  # httpx ASGITransport
        (("127.0.0.1", 8051), False),  # uvicorn on TCP: the socket's address
        (("10.1.2.3", 8051), False),
        (("::1", 8051), False),
        (("/run/algomancy.sock", None), False),  # uvicorn on a Unix socket
        (None, False),  # no server in the scope
    ],
)
def test_in_process_is_judged_on_the_scope_server(
    server: tuple[str, int | None] | None, served: bool
) -> None:
    name = server[0] if server else "testserver"
    assert in_process({"server": server}, name.lower()) is served
    assert not in_process({"server": server}, "other.example")


# -- same origin: scheme, host and port -----------------------------------------------


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        ("127.0.0.1", "http://127.0.0.1:9999", False),  # another port, Host without one
        ("127.0.0.1", "https://127.0.0.1", False),  # another scheme (and default port)
        ("127.0.0.1", "http://127.0.0.1", True),
        ("127.0.0.1", "http://127.0.0.1:80", True),
        ("127.0.0.1:8051", "http://127.0.0.1:8051", True),
        ("127.0.0.1:8051", "https://127.0.0.1:8051", False),  # same port, other scheme
        ("localhost:8051", "http://127.0.0.1:8051", False),  # another host name
        ("[::1]:8051", "http://[::1]:8051", True),
    ],
)
def test_same_origin_is_scheme_host_and_port(
    client: TestClient, host: str, origin: str, allowed: bool
) -> None:
    headers = {"Host": host, "Origin": origin}
    r = client.post(f"{M}/scenarios", json=SCENARIO, headers=headers)
    assert r.status_code == (201 if allowed else 403), r.text


def test_behind_a_tls_proxy_the_forwarded_scheme_counts(make_client: ClientFactory) -> None:
    """With `forwarded_allow_ips` trusting the proxy, X-Forwarded-Proto gives the
    scheme the browser used; without it the https page's writes are cross-site."""
    headers = {"Host": "localhost", "Origin": "https://localhost", "X-Forwarded-Proto": "https"}
    trusted = make_client(forwarded_allow_ips="*")
    assert trusted.post(f"{M}/scenarios", json=SCENARIO, headers=headers).status_code == 201
    plain = make_client()
    assert plain.post(f"{M}/scenarios", json=SCENARIO, headers=headers).status_code == 403
