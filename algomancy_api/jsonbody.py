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

import json
import math
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from algomancy_api.errors import detail_response
from algomancy_api.sitecheck import is_json
from algomancy_data.limits import quote

DEFAULT_MAX_JSON_BYTES = 1024 * 1024
DEFAULT_MAX_JSON_DEPTH = 64

#: A JSON string, escapes included (an unrolled loop: no backtracking per character).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: Every byte but the four brackets.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


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


class _Refused(ValueError):
    """A JSON value the API does not take."""


def _no_constant(name: str) -> Any:
    raise _Refused(f"JSON body holds {name}, which is not JSON (RFC 8259); send null or a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Refused(f"JSON body holds the number {quote(text, 40)}, out of a double's range")
    return value


def _int64(text: str) -> int:
    if len(text) > 20 or not INT64_MIN <= int(text) <= INT64_MAX:
        raise _Refused(
            f"JSON body holds the integer {quote(text, 40)}, out of the 64-bit range "
            "(what a store can keep)"
        )
    return int(text)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        repeated = next(key for key in keys if keys.count(key) > 1)
        raise _Refused(f"JSON body repeats the key {quote(repeated, 80)} in one object")
    return dict(pairs)


def value_problem(body: bytes) -> str | None:
    """What makes a (depth-checked) JSON body unacceptable, or None: NaN or
    Infinity (not JSON, though Python's parser takes them), numbers out of range,
    a key repeated in one object (the parser would keep the last silently).
    Malformed JSON is left to the route's own validation (422)."""
    try:
        json.loads(
            body,
            parse_constant=_no_constant,
            parse_float=_finite_float,
            parse_int=_int64,
            object_pairs_hook=_unique_keys,
        )
    except _Refused as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None
    return None


def is_dataset_upload(path: str, prefix: str) -> bool:
    """Whether `path` is one of the routes that take a dataset as their body."""
    return _dataset_path(prefix).match(path) is not None


def _dataset_path(prefix: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(prefix) + r"/sessions/[^/]+/(?:data/from-json|etl)/?$")


class JsonDepthLimit:
    """400 for a JSON body nested deeper than `max_depth` (see the module's
    docstring), or holding a value the API does not take (`value_problem`).

    The body is collected first (its size is already bounded by `BodySizeLimit`),
    checked, and handed on unchanged."""

    def __init__(self, app: ASGIApp, max_depth: int, prefix: str) -> None:
        self.app = app
        self.max_depth = max_depth
        self.dataset_path = _dataset_path(prefix)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            # No route reads a body on these (and they are the polls: keep them cheap).
            or scope["method"] in ("GET", "HEAD")
            or self.dataset_path.match(scope["path"])
        ):
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
        problem = (
            f"JSON body nested too deeply: more than {self.max_depth} levels of "
            "arrays and objects (max_json_depth)"
            if depth > self.max_depth
            else value_problem(body)
        )
        if problem is not None:
            await detail_response(400, problem)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
