"""Cross-site safety: the Host check, the Origin check on writes, JSON content types.

A server on someone's laptop answers any web page the person visits. Browsers let
a page send "simple" requests (`text/plain`, form and multipart bodies) to any
address without asking the server first, and DNS rebinding lets a page read a
local server under a name it controls. This middleware refuses those:

- a `Host` that is not one of `allowed_hosts`: 400 naming it (DNS rebinding),
  unless the request came through no socket at all (`in_process`);
- a write (POST, PUT, PATCH, DELETE) whose `Origin` is neither the server's own
  (same scheme, host and port) nor one of `cors_origins`, unless it carries
  `X-Requested-With` (a header no page can add cross-site without a CORS preflight
  the server would refuse): 403;
- a body sent to a route that reads JSON with another content type: 415. A body
  without any `Content-Type` is read as JSON (as FastAPI does): the types a page
  can send cross-site without a preflight are all refused by name.

Requests without `Origin` (curl, scripts, the Python client) pass the Origin check:
browsers send `Origin` on every cross-site write.
"""

from __future__ import annotations

import email.message
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from algomancy_api.errors import detail_response
from algomancy_data.limits import quote

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON = "application/json"
#: How many `Host` values `SiteCheck.passes` remembers as served (then it starts over).
_SERVED_KEPT = 64
#: The custom header that marks a request as not a plain cross-site one.
REQUESTED_WITH = b"x-requested-with"
#: The names that reach a server bound to a loopback address.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def is_loopback(host: str) -> bool:
    """Whether binding to `host` serves only this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def default_allowed_hosts(bind_host: str) -> list[str]:
    """The Host names accepted when `allowed_hosts` is not set: the loopback names
    (any port) while bound to loopback; any host when bound elsewhere, where the
    names the server is reached by cannot be known."""
    if not is_loopback(bind_host):
        return ["*"]
    hosts = list(LOOPBACK_HOSTS)
    own = bind_host.strip().lower()
    own = f"[{own}]" if ":" in own and not own.startswith("[") else own
    if own not in hosts:
        hosts.append(own)
    return hosts


def split_host(value: str) -> tuple[str, str | None]:
    """`host[:port]` (IPv6 in brackets) as (lower-case host, port or None)."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return value, None
        host, rest = value[: end + 1], value[end + 1 :]
        return host, rest[1:] if rest.startswith(":") else None
    if value.count(":") == 1:
        host, port = value.split(":")
        return host, port
    return value, None


class HostPattern:
    """One `allowed_hosts` entry: `name`, `name:port`, `*.domain` or `*`."""

    def __init__(self, entry: str) -> None:
        self.entry = entry
        host, self.port = split_host(entry)
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # a bare IPv6 address
        self.host = host.rstrip(".")

    def matches(self, host: str, port: str | None) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host == "*":
            return True
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host


def origin_triple(origin: str) -> tuple[str, str, str] | None:
    """`(scheme, host, port)` of an `Origin` header, the scheme's default port
    filled in; None for `null` and anything else that is not an origin."""
    try:
        parts = urlsplit(origin)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    scheme = parts.scheme.lower()
    return scheme, host.lower(), str(port) if port is not None else DEFAULT_PORTS.get(scheme, "")


#: A host name as a URL gives it: what an in-process transport reports as `server`.
_URL_NAME = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$", re.IGNORECASE)


def in_process(scope: Scope, host: str) -> bool:
    """Whether the request came through no socket, sent to the name its transport
    was given: Starlette's `TestClient`, httpx's `ASGITransport`.

    A server on a socket reports the socket's own address as `scope["server"]`: an
    IP address for TCP, a path (or None) for a Unix socket. An in-process transport
    reports the host of the URL it was asked for (`testserver`), and sends it as
    `Host` too. A browser page reaches no app through no socket, so DNS rebinding,
    which the Host check is for, cannot happen there. A `Host` other than that name
    is still checked, so tests of the Host check itself keep working."""
    server = scope.get("server")
    if not server or not isinstance(server[0], str):
        return False
    name = server[0].lower().rstrip(".")
    if not _URL_NAME.match(name) or is_ip_address(name):
        return False
    return host.rstrip(".") == name


def is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def media_type(value: str) -> str:
    message = email.message.Message()
    message["content-type"] = value
    return message.get_content_type()


def is_json(content_type: str) -> bool:
    kind = media_type(content_type)
    return kind == JSON or (kind.startswith("application/") and kind.endswith("+json"))


#: (path pattern, method, media types of the body) of each documented operation.
BodyTable = list[tuple[re.Pattern[str], str, frozenset[str]]]


def body_table(openapi: dict[str, Any]) -> BodyTable:
    """What each operation of an OpenAPI document reads its body as, from its
    `requestBody` (no entry: it reads no body). Taken from the document so that
    every documented route, including ones added to the app later, is covered."""
    table: BodyTable = []
    for path, operations in openapi.get("paths", {}).items():
        pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content") or {}
            if content:
                table.append((pattern, method.upper(), frozenset(content)))
    return table


#: Body tables by the routes they were read for (`routes_key`): apps with the same
#: routes build the OpenAPI document for it once per process. The tests build an app
#: per test, and each upload test paid ~0.4 s of CPU for the document (the key costs
#: ~0.1 s of it): the fast tests of test_api_hostile, _versions, _data and _sitecheck
#: took 43.7 s of CPU (user+sys) without the cache and 29.1 s with it (issue 22). A
#: server builds one app: it changes nothing there.
_TABLES: dict[tuple[Any, ...], BodyTable] = {}
_TABLES_KEPT = 16


def routes_key(routes: Sequence[BaseRoute]) -> tuple[Any, ...]:
    """What decides the `requestBody`s of an app's document: each route's path,
    methods, endpoint (its body parameters), dependencies and `openapi_extra`
    (functions by their qualified names), the included routers' routes one by one."""
    return tuple(
        (
            type(route),
            getattr(route, "path", None),
            frozenset(getattr(route, "methods", None) or ()),
            _name(getattr(route, "endpoint", None)),
            tuple(_name(d.dependency) for d in getattr(route, "dependencies", ())),
            repr(getattr(route, "openapi_extra", None)),
        )
        for route in iter_route_contexts(routes)
    )


def _name(function: Any) -> str:
    # By name, not identity: FastAPI makes the /openapi.json and /docs endpoints
    # afresh (closures) for each app.
    return f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', function)}"


class SiteCheck:
    """The Host, Origin and content-type checks (see the module's docstring).

    The Host check is ours, not Starlette's `TrustedHostMiddleware`, which cannot
    express our rule: it drops the port (an `allowed_hosts` entry `name:port`
    would match any port), it has no in-process exception (a `TestClient` of the
    default configuration would be refused its `testserver`, unless `testserver`
    were allowed, and then a real server would serve it too), it refuses a request
    without `Host` (HTTP/1.0), and it answers `Invalid host header` as plain text
    where every refusal of this API is `{"detail": ...}` naming what was wrong."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str],
        allowed_origins: Iterable[str],
        openapi: Callable[[], dict[str, Any]],
        routes: Callable[[], Sequence[BaseRoute]] | None = None,
    ) -> None:
        self.app = app
        self.hosts = [HostPattern(entry) for entry in allowed_hosts]
        self.any_host = any(p.host == "*" and p.port is None for p in self.hosts)
        origins = list(allowed_origins)
        self.any_origin = "*" in origins
        self.origins = {o.rstrip("/").lower() for o in origins}
        self.openapi = openapi
        #: The app's routes, to share the body table with apps of the same routes.
        self.routes = routes
        self._table: BodyTable | None = None
        #: `Host` values already found among `allowed_hosts` (`passes`).
        self._served: set[bytes] = set()

    def passes(self, scope: Scope) -> bool:
        """Whether nothing is refused (`algomancy_api.middleware.chain`).

        A read (no Origin or content-type check) from a `Host` already found among
        `allowed_hosts` passes on a set lookup: the patterns are matched once per
        Host value (at most `_SERVED_KEPT` kept), not on every poll. Bought figure:
        "1 status poll, in memory / bare FastAPI" (`benchmarks.bench_status`)."""
        if scope["type"] not in ("http", "websocket"):
            return True
        headers = dict(scope.get("headers", ()))
        raw_host = headers.get(b"host", b"")
        read = scope["type"] != "http" or scope["method"] not in WRITES
        if read and raw_host in self._served:
            return True
        if self.refusal(scope, headers) is not None:
            return False
        if read and self.host_served(raw_host.decode("latin-1")):
            if len(self._served) >= _SERVED_KEPT:
                self._served.clear()
            self._served.add(raw_host)
        return True

    def host_served(self, raw_host: str) -> bool:
        """Whether `raw_host` is one of `allowed_hosts` (whatever the request)."""
        if not raw_host or self.any_host:
            return True
        host, port = split_host(raw_host)
        return any(p.matches(host.rstrip("."), port) for p in self.hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            status, detail = refusal
            await detail_response(status, detail)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, str] | None:
        raw_host = headers.get(b"host", b"").decode("latin-1")
        if not self.host_served(raw_host):
            host, _ = split_host(raw_host)
            if not in_process(scope, host):
                return 400, (
                    f"Host {quote(raw_host, 100)} is not served here: it is not in "
                    "allowed_hosts (a guard against DNS rebinding); configure "
                    "allowed_hosts with the names this server is reached by"
                )
        if scope["type"] != "http" or scope["method"] not in WRITES:
            return None
        origin = headers.get(b"origin")
        if origin is not None and REQUESTED_WITH not in headers:
            text = origin.decode("latin-1")
            if not self.origin_allowed(text, raw_host, scope):
                return 403, (
                    f"cross-site write refused: Origin {quote(text, 100)} is neither this "
                    "server nor one of cors_origins; a script on an allowed page may "
                    "send X-Requested-With"
                )
        content_type = headers.get(b"content-type")
        if content_type is None:
            # No type at all is read as JSON (FastAPI does too): `curl --data-binary`
            # of a `to_json()` file. A page sending a body cross-site without a type
            # (a Blob without one) carries `Origin`, judged above.
            return None
        text = content_type.decode("latin-1")
        # A JSON body passes whatever the route reads, so only a body of another type
        # needs the table (built from the OpenAPI document on first use, which costs
        # ~0.3 s of CPU: most apps, the tests' ones included, never need it).
        if is_json(text):
            return None
        if JSON in self.body_media_types(scope):
            sent = quote(media_type(text), 60) if text.strip() else "an empty Content-Type"
            return 415, f"this route reads JSON: send Content-Type: {JSON} (got {sent})"
        return None

    def origin_allowed(self, origin: str, raw_host: str, scope: Scope) -> bool:
        if self.any_origin or origin.rstrip("/").lower() in self.origins:
            return True
        parsed = origin_triple(origin)
        if parsed is None or not raw_host:
            return False
        host, port = split_host(raw_host)
        # The scheme the server saw: behind a TLS-terminating proxy, the one its
        # X-Forwarded-Proto says when `forwarded_allow_ips` trusts it.
        scheme = str(scope.get("scheme", "http")).lower()
        # Same origin as browsers judge it: scheme, host and port, a Host without
        # a port meaning the scheme's default one.
        return parsed == (scheme, host.rstrip("."), port or DEFAULT_PORTS.get(scheme, ""))

    def _shared_table(self) -> BodyTable:
        if self.routes is None:
            return body_table(self.openapi())
        key = routes_key(self.routes())
        table = _TABLES.get(key)
        if table is None:
            table = body_table(self.openapi())
            if len(_TABLES) >= _TABLES_KEPT:
                _TABLES.clear()
            _TABLES[key] = table
        return table

    def body_media_types(self, scope: Scope) -> frozenset[str]:
        if self._table is None:
            self._table = self._shared_table()
        path, method = scope["path"], scope["method"]
        wanted: frozenset[str] = frozenset()
        for pattern, verb, media in self._table:
            if verb == method and pattern.match(path):
                wanted |= media
        return wanted
