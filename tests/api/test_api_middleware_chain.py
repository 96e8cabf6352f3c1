"""`algomancy_api.middleware.chain.Chain`: our checks in one layer, a request let in
at the first check with work to do."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from algomancy_api import ApiLauncher
from algomancy_api.middleware.chain import Chain
from tests.api.conftest import PREFIX, api_config

calls: list[str] = []


class Check:
    """A middleware that notes its call; `passes` as told."""

    answer: bool | None = None

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(type(self).__name__)
        await self.app(scope, receive, send)


class Passing(Check):
    def passes(self, scope: Scope) -> bool:
        calls.append("Passing.passes")
        return True


class Refusing(Check):
    def passes(self, scope: Scope) -> bool:
        calls.append("Refusing.passes")
        return False


class Plain(Check):
    """No `passes`: a middleware of another library."""


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    calls.append("app")


async def receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Message) -> None:
    return None


def run(layers: list[type[Check]]) -> list[str]:
    calls.clear()
    chain = Chain(inner, [(layer, {}) for layer in layers])
    asyncio.run(chain({"type": "http"}, receive, send))
    return list(calls)


def test_a_request_every_check_passes_goes_straight_to_the_app() -> None:
    assert run([Passing, Passing]) == ["Passing.passes", "Passing.passes", "app"]


def test_a_request_enters_at_the_first_check_with_work_and_meets_every_later_one() -> None:
    assert run([Passing, Refusing, Passing]) == [
        "Passing.passes",
        "Refusing.passes",
        "Refusing",
        "Passing",
        "app",
    ]
    assert run([Passing, Plain, Refusing]) == ["Passing.passes", "Plain", "Refusing", "app"]


def poll_scope(**changes: Any) -> dict[str, Any]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": f"{PREFIX}/sessions/main/scenarios/x/status",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
    }
    return scope | changes


def entry(scope: dict[str, Any], **config: Any) -> str | None:
    """The class of the check a request enters the app's chain at (None: none)."""
    app = ApiLauncher.build(api_config(**config))
    try:
        app.state.sessions.start()
        layer = app.build_middleware_stack()
        while not isinstance(layer, Chain):
            layer = layer.app  # type: ignore[attr-defined]
        for check, passes in layer._checks:
            if passes is None or not passes(scope):
                return type(check).__name__
        return None
    finally:
        app.state.sessions.close()


def test_a_status_poll_passes_every_check_of_the_app() -> None:
    assert entry(poll_scope()) is None


def test_requests_with_work_enter_at_the_check_it_is_for() -> None:
    assert entry(poll_scope(headers=[(b"host", b"evil.example")])) == "SiteCheck"
    with_body = [(b"host", b"localhost"), (b"content-length", b"2")]
    assert entry(poll_scope(method="POST", headers=with_body)) == "BodySizeLimit"
    assert entry(poll_scope(method="POST", headers=[(b"host", b"localhost")])) == "JsonDepthLimit"
    assert entry(poll_scope(path=f"{PREFIX}/a\x00b")) == "RefuseNulPaths"
    assert entry(poll_scope(), api_keys={"k": "ann"}) == "UserContextMiddleware"
    keyed = poll_scope(headers=[(b"host", b"localhost"), (b"x-api-key", b"k")])
    assert entry(keyed, api_keys={"k": "ann"}) is None
    assert keyed["state"]["user"] == "ann"
    assert entry(poll_scope(), forwarded_allow_ips=["10.0.0.1"]) == "ProxyHeadersMiddleware"


def test_site_check_remembers_served_hosts_of_reads_only() -> None:
    """A read from a served Host passes on a set lookup next time; a refused Host is
    refused every time; a write is checked in full (its Origin) whatever its Host."""
    from algomancy_api.middleware.sitecheck import SiteCheck

    check = SiteCheck(inner, ["localhost"], [], openapi=dict)
    read = poll_scope(headers=[(b"host", b"localhost:8000")])
    assert check.passes(read) and b"localhost:8000" in check._served
    assert check.passes(read)
    evil = poll_scope(headers=[(b"host", b"evil.example")])
    assert not check.passes(evil) and not check.passes(evil)
    assert b"evil.example" not in check._served
    write = poll_scope(
        method="POST", headers=[(b"host", b"localhost:8000"), (b"origin", b"https://evil.example")]
    )
    assert not check.passes(write)
