"""Security headers on every answer: a Content-Security-Policy, `nosniff`, a
Referrer-Policy.

The pages (the web app at `/`, Swagger UI at `/docs`, ReDoc at `/redoc`) load
only what the server itself serves: no inline script or style (ReDoc needs inline
styles), no outside address. Every other answer (JSON, files, events) gets a
policy that allows nothing at all, so that a body a browser is tricked into
showing as a page runs nothing. Either way `frame-ancestors` says which pages may
frame the answer (`'none'` by default, `frame_ancestors` in the configuration).
"""

from __future__ import annotations

import re

from starlette.types import Scope

#: What the web app and Swagger UI may load: this server's files, and the icons
#: Swagger UI draws from data: URLs.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
#: ReDoc needs two more: `style-src 'unsafe-inline'` (styled-components writes its
#: styles into `<style>` elements; styles run no code), and `worker-src blob:`
#: (its search runs in a worker made from a blob). Its sidebar's "powered by"
#: logo from Redocly's CDN is not loaded (`img-src`), so the page never reaches out.
REDOC_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'"
)
#: The page paths (under the app's `root_path`) with a policy of their own.
PAGE_POLICIES = {"/redoc": REDOC_POLICY}
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
            f'"\'none\'", "\'self\'" or "https://portal.example"; got {value!r}'
        )
    return value.strip()


class SecurityHeaders:
    """Adds the headers of the module's docstring to every HTTP answer; a
    Content-Security-Policy a route set itself is kept. Run by `AnswerLayer`
    (`algomancy_api.middleware.answers`)."""

    def __init__(self, frame_ancestors: str = DEFAULT_FRAME_ANCESTORS) -> None:
        ancestors = f"; frame-ancestors {check_frame_ancestors(frame_ancestors)}"
        self.page = (PAGE_POLICY + ancestors).encode()
        self.pages = {path: (policy + ancestors).encode() for path, policy in PAGE_POLICIES.items()}
        self.nothing = (NOTHING_POLICY + ancestors).encode()
        self.common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", REFERRER_POLICY.encode()),
        ]

    def with_headers(
        self, scope: Scope, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
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
            headers.append((_CSP, self.policy(scope) if page else self.nothing))
        return headers

    def policy(self, scope: Scope) -> bytes:
        """The policy of the page at the scope's path."""
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        return self.pages.get(path, self.page)
