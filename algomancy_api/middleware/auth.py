"""User context: API keys or a trusted identity header, off by default."""

from __future__ import annotations

import hmac
import ipaddress
import unicodedata
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from algomancy_api.errors import detail_response
from algomancy_api.webapp import ASSET_PREFIXES

#: The web app's page and files hold no data: it asks for a key, then calls the API.
PUBLIC_PATHS = ("/health", "/", "/app/settings", "/app/logo")
API_KEY_HEADER = "X-API-Key"
DOC_PATHS = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


#: The scope key under which `RecordPeer` keeps the TCP peer as the server saw it.
PEER_KEY = "algomancy.peer"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(field: str, values: Iterable[str]) -> list[Network]:
    """Addresses or CIDR ranges (`10.0.0.0/8`, `::1`); `ValueError` naming `field`
    and the value that is neither."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{field}: {value!r} is not an IP address or CIDR range") from None
    return networks


def peer_address(scope: Scope) -> str | None:
    """The address of the TCP peer: the one `RecordPeer` saw before any
    forwarded-header rewriting, else the scope's client."""
    client = scope.get(PEER_KEY, scope.get("client"))
    return str(client[0]) if client else None


def is_trusted(address: str | None, networks: list[Network]) -> bool:
    if address is None or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


class RecordPeer:
    """Keeps the TCP peer in the scope before `ProxyHeadersMiddleware` replaces
    `scope["client"]` with what `X-Forwarded-For` says: trust in a proxy is decided
    on the address that really connected, never on one a header claims."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def passes(scope: Scope) -> bool:
        """Keep the peer; nothing else to do (`algomancy_api.middleware.chain`)."""
        if scope["type"] in ("http", "websocket") and PEER_KEY not in scope:
            scope[PEER_KEY] = scope.get("client")
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.passes(scope)
        await self.app(scope, receive, send)


class UserContextMiddleware:
    """Sets `request.state.user` from the credentials; 401 when they are missing.

    API keys come as `Authorization: Bearer <key>` or `X-API-Key: <key>`; a
    reverse proxy in `trusted_proxies` may name the user in `identity_header`
    instead. The identity header from any other peer is refused (401), key or not.
    """

    def __init__(
        self,
        app: ASGIApp,
        api_keys: dict[str, str],
        identity_header: str | None,
        public_docs: bool,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.api_keys = dict(api_keys)
        self.identity_header = identity_header.lower().encode() if identity_header else None
        self.identity_name = identity_header or ""
        self.trusted = parse_networks("trusted_proxies", trusted_proxies)
        self.public = PUBLIC_PATHS + (DOC_PATHS if public_docs else ())

    def refusal(self, scope: Scope) -> str | None:
        """Why the request is refused (401), or None: then the caller, if it needs
        one, is in the scope's state (`user`)."""
        path = scope["path"] if scope["type"] == "http" else ""
        if scope["type"] != "http" or path in self.public or path.startswith(ASSET_PREFIXES):
            return None
        raw_headers = scope.get("headers", ())
        user, refusal = self.identify(dict(raw_headers), peer_address(scope))
        if user is not None and self.identity_header is not None:
            copies = sum(1 for key, _ in raw_headers if key.lower() == self.identity_header)
            if copies > 1:
                user = None
                refusal = (
                    f"authentication refused: the {self.identity_name} header is sent "
                    f"{copies} times; a proxy must send exactly one"
                )
        if user is None:
            return refusal
        scope.setdefault("state", {})["user"] = user
        return None

    def passes(self, scope: Scope) -> bool:
        """Whether the request is let in, its caller set (`algomancy_api.middleware.chain`)."""
        return self.refusal(scope) is None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.refusal(scope)
        if refusal is not None:
            denied = detail_response(401, refusal, {"WWW-Authenticate": "Bearer"})
            await denied(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def identify(self, headers: dict[bytes, bytes], peer: str | None) -> tuple[str | None, str]:
        """The user, or None and why not."""
        if self.identity_header is not None and self.identity_header in headers:
            if not is_trusted(peer, self.trusted):
                return None, (
                    f"authentication refused: the {self.identity_name} header is only "
                    "accepted from a trusted proxy (trusted_proxies), and this request "
                    "did not come from one"
                )
            name, problem = identity_name(headers[self.identity_header])
            if name is not None:
                return name, ""
            return None, f"authentication refused: the {self.identity_name} header {problem}"
        # An empty key is no key: it never matches, and never lets another way win.
        key = headers.get(API_KEY_HEADER.lower().encode(), b"").decode("latin-1").strip()
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if not key and authorization.lower().startswith("bearer "):
            key = authorization[7:].strip()
        if not key:
            return None, "authentication required: send a valid API key"
        for known, user in self.api_keys.items():
            if hmac.compare_digest(known.encode(), key.encode()):
                return user, ""
        return None, "authentication required: send a valid API key (this one is not known)"


#: Characters no user name holds: control and format characters (zero-width
#: spaces, direction marks), surrogates, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def identity_name(raw: bytes) -> tuple[str | None, str]:
    """The user an identity header names, taken byte for byte, or None and what is
    wrong with it. Nothing is trimmed or replaced: `ops` followed by a no-break
    space is not the user `ops`, so such a value is refused instead."""
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "is not valid UTF-8"
    if not name:
        return None, "is empty"
    for where, char in (("starts", name[0]), ("ends", name[-1])):
        if char.isspace() or unicodedata.category(char).startswith("Z"):
            return None, f"{where} with whitespace ({_codepoint(char)}); names are taken as sent"
    for char in name:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return None, f"holds a control or invisible character ({_codepoint(char)})"
    return name, ""


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"
