"""Limits on JSON request bodies: their size and how deeply they nest.

Ordinary JSON routes (a session's name, a scenario's parameters) take small
bodies: `max_json_bytes` (1 MiB by default) bounds them, so that a 90 MiB display
name is refused with 413 before it is read, not after it was parsed. The dataset
routes (`…/data/from-json` and the multipart `…/etl`) keep the upload limit
(`max_upload_bytes`); `BodySizeLimit` applies whichever limit a path has.

A JSON body nested deeper than `max_json_depth` is answered 400 before any parser
builds Python objects from it (the standard library's parser recurses per level).
The depth is measured on the raw bytes: strings are cut out, then the brackets left
are counted. The dataset body of `…/data/from-json` is parsed by orjson, which does
not recurse in Python and stops at its own limit, and must have the dataset format's
fixed shape; it is not scanned here (scanning 100 MiB would cost what parsing does).
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from algomancy_api.errors import detail_response
from algomancy_api.sitecheck import is_json

DEFAULT_MAX_JSON_BYTES = 1024 * 1024
DEFAULT_MAX_JSON_DEPTH = 64

#: A JSON string, escapes included (an unrolled loop: no backtracking per character).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: Every byte but the four brackets.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def json_depth(body: bytes, stop_after: int | None = None) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar).

    With `stop_after`, counting stops as soon as the depth passes it."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_after is not None and deepest > stop_after:
                    break
        else:
            depth -= 1
    return deepest


def is_dataset_upload(path: str, prefix: str) -> bool:
    """Whether `path` is one of the routes that take a dataset as their body."""
    return _dataset_path(prefix).match(path) is not None


def _dataset_path(prefix: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(prefix) + r"/sessions/[^/]+/(?:data/from-json|etl)/?$")


class JsonDepthLimit:
    """400 for a JSON body nested deeper than `max_depth` (see the module's docstring).

    The body is collected first (its size is already bounded by `BodySizeLimit`),
    checked, and handed on unchanged."""

    def __init__(self, app: ASGIApp, max_depth: int, prefix: str) -> None:
        self.app = app
        self.max_depth = max_depth
        self.dataset_path = _dataset_path(prefix)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.dataset_path.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        content_type = b""
        for key, value in scope.get("headers", ()):
            if key == b"content-type":
                content_type = value
        if not is_json(content_type.decode("latin-1")):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: nothing to check, nothing to answer.
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        depth = json_depth(body, stop_after=self.max_depth)
        if depth > self.max_depth:
            answer = detail_response(
                400,
                f"JSON body nested too deeply: more than {self.max_depth} levels of "
                "arrays and objects (max_json_depth)",
            )
            await answer(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
