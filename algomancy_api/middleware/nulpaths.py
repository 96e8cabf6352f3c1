"""`RefuseNulPaths`: 404 for a path holding a NUL character."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from algomancy_api.errors import detail_response


class RefuseNulPaths:
    """404 for a path with a NUL character in it, before any route reads it.

    No name, key, tag or id may hold a NUL (every write refuses control characters),
    so such a path names nothing; PostgreSQL would refuse it in a query besides.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def passes(scope: Scope) -> bool:
        """Whether the path holds no NUL (`algomancy_api.middleware.chain`)."""
        return scope["type"] != "http" or "\x00" not in scope["path"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "\x00" in scope["path"]:
            answer = detail_response(404, "not found: the path holds a NUL character")
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)
