"""`Chain`: our request checks in one layer, entered at the first with work to do.

Each check (`RecordPeer`, `SiteCheck`, `BodySizeLimit`, ...) is a middleware of its
own, in its own module; `Chain` builds them into one stack, in the order
`algomancy_api.middleware` states, and asks each in turn, with its `passes(scope)`,
whether the request needs anything of it beyond what `passes` itself did. The
request enters the stack at the first that answers no (or that has no `passes`,
such as uvicorn's and Starlette's middlewares), and so goes through that one and
every one after it as before; when all pass, it goes straight to the app inside.
A status poll (a GET without a body, on a started store, from an allowed host) thus
costs one call frame here instead of seven. Bought figure: "1 status poll, in
memory / bare FastAPI" (`benchmarks.bench_status`).

`passes` must not answer: it may only do what the middleware would do anyway
before handing the request on unchanged (`RecordPeer` keeps the peer), and say
no whenever the middleware would do anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

#: A middleware and its arguments (beside the app it wraps).
Layer = tuple[Callable[..., Any], dict[str, Any]]


class Chain:
    """The middlewares of `layers` (outermost first) around `app`, entered at the
    first that does not pass the request (see the module's docstring)."""

    def __init__(self, app: ASGIApp, layers: Sequence[Layer]) -> None:
        self.app = app
        built: list[Any] = []
        stack = app
        for middleware, options in reversed(layers):
            stack = middleware(stack, **options)
            built.append(stack)
        #: The middlewares, outermost first.
        self.concerns: list[Any] = built[::-1]
        self._checks = [(layer, getattr(layer, "passes", None)) for layer in self.concerns]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for layer, passes in self._checks:
            if passes is None or not passes(scope):
                await layer(scope, receive, send)
                return
        await self.app(scope, receive, send)
