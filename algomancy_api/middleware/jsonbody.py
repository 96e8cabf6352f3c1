"""Limits on JSON request bodies: their size and how deeply they nest.

Ordinary JSON routes (a session's name, a scenario's parameters) take small
bodies: `max_json_bytes` (1 MiB by default) bounds them, so that a 90 MiB display
name is refused with 413 before it is read, not after it was parsed. The dataset
routes (`…/data/from-json` and the multipart `…/etl`) keep the upload limit
(`max_upload_bytes`); `BodySizeLimit` applies whichever limit a path has.

A JSON body nested deeper than `max_json_depth` is answered 400 before any parser
builds Python objects from it (the standard library's parser recurses per level).
The depth is measured on the raw bytes: brackets inside strings are masked out,
then the brackets left are counted; so are the arrays, objects and keys, whose
number `max_json_nodes` bounds: each array or object costs the route's own parse,
on the event loop, a Python object and the garbage collector's attention, and each
key a model does not take a validation error (100,000 of them held the event loop
for seconds). Every check is linear in the
body's size (vectorised scans, one parse), and a
body over a few KiB is checked in a worker thread, off the event loop: a hostile
body under `max_json_bytes` costs at most a fraction of a second of CPU and holds
no other request. The dataset body of `…/data/from-json` is parsed by orjson, which does
not recurse in Python and stops at its own limit, and must have the dataset format's
fixed shape; it is not scanned here (scanning 100 MiB would cost what parsing does).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from functools import cache
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from algomancy_api.errors import detail_response
from algomancy_api.middleware.sitecheck import is_json
from algomancy_data.lazy import lazy_module
from algomancy_data.limits import quote

if TYPE_CHECKING:
    import numpy as np
else:
    # Imported by the first JSON body, not at start (`benchmarks.rss`: numpy was the
    # one native library a pandas-free server loaded at rest: 99.8 -> 86.7 MiB).
    np = lazy_module("numpy")

DEFAULT_MAX_JSON_BYTES = 1024 * 1024
DEFAULT_MAX_JSON_DEPTH = 64


@cache
def _step() -> np.ndarray[Any, Any]:
    """The change of depth at each byte: +1 opening a bracket, -1 closing one."""
    step = np.zeros(256, dtype=np.int32)
    step[list(b"[{")] = 1
    step[list(b"]}")] = -1
    return step


_QUOTE, _BACKSLASH, _COLON = ord('"'), ord("\\"), ord(":")
#: Bodies up to this size are checked on the event loop (well under a millisecond);
#: larger ones in a worker thread.
INLINE_CHECK_BYTES = 4096
DEFAULT_MAX_JSON_NODES = 10_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


@dataclasses.dataclass(frozen=True)
class Scan:
    """What one vectorised pass over a JSON text finds (`scan`)."""

    depth: int = 0
    """How deeply arrays and objects nest (0 for a scalar)."""
    nodes: int = 0
    """Arrays, objects and object keys."""
    keys: int = 0
    """Object keys (a repeated one is possible only with two or more)."""
    may_refuse_values: bool = False
    """Outside strings: a capital letter (`NaN`, `Infinity`), a run of 19 digits or
    more, or an exponent: values `value_problem` must look at."""


#: Outside strings, what may make a value refused: NaN/Infinity, long digit runs
#: (integers past 64 bits, floats past a double), exponents.
_SUSPECT = re.compile(rb"[A-Z]|\d{19}|\d[eE]")


def scan(body: bytes) -> Scan:
    """One vectorised pass, linear in the body's size: a quote opens or closes a
    string unless an odd run of backslashes precedes it; what is inside strings
    does not count. An unterminated string runs to the end."""
    data = np.frombuffer(body, dtype=np.uint8)
    if data.size == 0:
        return Scan()
    steps = _step()[data]
    outside = data
    quotes = data == _QUOTE
    keys = 0
    if quotes.any():
        positions = np.arange(data.size, dtype=np.int64)
        # The last byte at or before each position that is not a backslash...
        last_plain = np.maximum.accumulate(np.where(data == _BACKSLASH, -1, positions))
        # ...gives the run of backslashes just before each position.
        run = positions - 1 - np.concatenate(([-1], last_plain[:-1]))
        real = quotes & (run % 2 == 0)
        inside = (np.cumsum(real, dtype=np.int64) % 2).astype(bool)
        steps[inside] = 0
        keys = int(np.count_nonzero((data == _COLON) & ~inside))
        outside = np.where(inside, np.uint8(_QUOTE), data)
    levels = np.cumsum(steps, dtype=np.int64)
    nodes = int(np.count_nonzero(steps == 1)) + keys
    suspect = _SUSPECT.search(outside.tobytes()) is not None
    return Scan(max(int(levels.max()), 0), nodes, keys, suspect)


def json_structure(body: bytes) -> tuple[int, int]:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar), and
    how many arrays, objects and object keys it holds (`scan`)."""
    found = scan(body)
    return found.depth, found.nodes


def json_depth(body: bytes, stop_after: int | None = None) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar).

    With `stop_after`, a depth past it is reported as `stop_after + 1`. Linear in
    the body's size (`json_structure`)."""
    deepest = scan(body).depth
    return deepest if stop_after is None else min(deepest, stop_after + 1)


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
    unique = dict(pairs)
    if len(unique) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"JSON body repeats the key {quote(key, 80)} in one object")
            seen.add(key)
    return unique


def value_problem(body: bytes, numbers: bool = True) -> str | None:
    """What makes a (depth-checked) JSON body unacceptable, or None: NaN or
    Infinity (not JSON, though Python's parser takes them), numbers out of range,
    a key repeated in one object (the parser would keep the last silently).
    Malformed JSON is left to the route's own validation (422). With `numbers`
    false, numbers are not looked at (no Python call per number)."""
    hooks: dict[str, Any] = {"parse_float": _finite_float, "parse_int": _int64} if numbers else {}
    try:
        json.loads(body, parse_constant=_no_constant, object_pairs_hook=_unique_keys, **hooks)
    except _Refused as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None
    return None


def body_problem(
    body: bytes, max_depth: int, max_nodes: int = DEFAULT_MAX_JSON_NODES
) -> str | None:
    """Why a JSON body is refused (nested deeper than `max_depth`, more than
    `max_nodes` arrays, objects and keys, or a `value_problem`), or None. Linear
    in the body's size."""
    found = scan(body)
    depth, nodes = found.depth, found.nodes
    if depth > max_depth:
        return (
            f"JSON body nested too deeply: more than {max_depth} levels of "
            "arrays and objects (max_json_depth)"
        )
    if nodes > max_nodes:
        return (
            f"JSON body holds {nodes} arrays, objects and keys; the limit is "
            f"{max_nodes} (max_json_nodes)"
        )
    if found.keys < 2 and not found.may_refuse_values:
        # No key can repeat and no value is refused: the parse is left to the route.
        return None
    return value_problem(body, numbers=found.may_refuse_values)


def is_dataset_upload(path: str, prefix: str) -> bool:
    """Whether `path` is one of the routes that take a dataset as their body."""
    return _dataset_path(prefix).match(path) is not None


def _dataset_path(prefix: str) -> re.Pattern[str]:
    routes = r"(?:data/from-json|etl|scenarios/import)"
    return re.compile("^" + re.escape(prefix) + r"/sessions/[^/]+/" + routes + "/?$")


class JsonDepthLimit:
    """400 for a JSON body nested deeper than `max_depth` (see the module's
    docstring), or holding a value the API does not take (`value_problem`).

    The body is collected first (its size is already bounded by `BodySizeLimit`),
    checked (off the event loop when over `INLINE_CHECK_BYTES`, two bodies at a
    time), and handed on unchanged."""

    def __init__(
        self,
        app: ASGIApp,
        max_depth: int,
        prefix: str,
        max_nodes: int = DEFAULT_MAX_JSON_NODES,
    ) -> None:
        self.app = app
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.dataset_path = _dataset_path(prefix)
        self._checks: anyio.CapacityLimiter | None = None

    async def problem(self, body: bytes) -> str | None:
        """`body_problem`, in a worker thread unless the body is small."""
        if len(body) <= INLINE_CHECK_BYTES:
            return body_problem(body, self.max_depth, self.max_nodes)
        if self._checks is None:
            # Its own threads: hostile bodies queue here, not in the routes' pool.
            self._checks = anyio.CapacityLimiter(2)
        return await anyio.to_thread.run_sync(
            body_problem, body, self.max_depth, self.max_nodes, limiter=self._checks
        )

    @staticmethod
    def passes(scope: Scope) -> bool:
        """Whether no route reads a body of this request (a GET or HEAD): nothing
        to check (`algomancy_api.middleware.chain`)."""
        return scope["type"] != "http" or scope["method"] in ("GET", "HEAD")

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
        problem = await self.problem(body)
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
