"""Security headers on every answer: a Content-Security-Policy, `nosniff`, a
Referrer-Policy.

The pages (the web app at `/`, Swagger UI at `/docs`, ReDoc at `/redoc`) load
only what the server itself serves: no inline script, no outside address. Every
other answer (JSON, files, events) gets a policy that allows nothing at all, so
that a body a browser is tricked into showing as a page runs nothing. Either way
`frame-ancestors` says which pages may frame the answer (`'none'` by default,
`frame_ancestors` in the configuration).
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: What the pages may load. `style-src 'unsafe-inline'`: ReDoc (styled-components)
#: writes its styles into `<style>` elements, and Swagger UI and the web app set
#: `style` attributes; styles run no code. `worker-src blob:`: ReDoc's search runs
#: in a worker it makes from a blob. `img-src data:`: the icons both docs pages
#: draw from data: URLs (ReDoc's "powered by" logo from Redocly's CDN is not
#: loaded at all).
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'"
)
#: What any other answer may load: nothing.
NOTHING_POLICY = "default-src 'none'"
REFERRER_POLICY = "no-referrer"
DEFAULT_FRAME_ANCESTORS = "'none'"

_CSP = b"content-security-policy"
_CONTENT_TYPE = b"content-type"
#: A CSP source list: no `;` or `,` (they would end the directive or the policy),
#: no control characters.
_SOURCES = re.compile(r"^[\x21-\x2b\x2d-\x3a\x3c-\x7e]+( [\x21-\x2b\x2d-\x3a\x3c-\x7e]+)*$")


def check_frame_ancestors(value: str) -> str:
    """`value` as a `frame-ancestors` source list (`'none'`, `'self'`, origins
    separated by spaces); `ValueError` naming what is wrong."""
    if not isinstance(value, str) or not _SOURCES.match(value.strip()):
        raise ValueError(
            "frame_ancestors: expected CSP sources separated by spaces, such as "
            f"\"'none'\", \"'self'\" or \"https://portal.example\"; got {value!r}"
        )
    return value.strip()


class SecurityHeaders:
    """Adds the headers of the module's docstring to every HTTP answer; a
    Content-Security-Policy a route set itself is kept."""

    def __init__(self, app: ASGIApp, frame_ancestors: str = DEFAULT_FRAME_ANCESTORS) -> None:
        self.app = app
        ancestors = f"; frame-ancestors {check_frame_ancestors(frame_ancestors)}"
        self.page = (PAGE_POLICY + ancestors).encode()
        self.nothing = (NOTHING_POLICY + ancestors).encode()
        self.common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", REFERRER_POLICY.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self.with_headers(list(message.get("headers", ())))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def with_headers(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        has_policy = False
        page = False
        for key, value in headers:
            key = key.lower()
            if key == _CSP:
                has_policy = True
            elif key == _CONTENT_TYPE:
                page = value.lower().startswith(b"text/html")
        headers.extend(self.common)
        if not has_policy:
            headers.append((_CSP, self.page if page else self.nothing))
        return headers
