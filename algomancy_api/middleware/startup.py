"""Starting the app: in its ASGI lifespan, or on the first request without one.

`ApiLauncher.build` opens nothing; the store and the executor open when the app
starts. A host that runs the lifespan (uvicorn, gunicorn, `with TestClient(app)`)
starts it there. A host that skips the lifespan gets it started by the first request
instead. If that cannot happen, requests answer 503 naming the cause (and a later
request tries again); they never wait longer than `STARTUP_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import logging
import threading

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from algomancy_api.errors import detail_response
from algomancy_core import SessionManager

log = logging.getLogger("algomancy.api")

#: How long a request waits for the app to start before answering 503.
STARTUP_TIMEOUT_SECONDS = 30.0


class StartOnFirstRequest:
    """Start `sessions` before the first request is handled, unless already started."""

    def __init__(self, app: ASGIApp, sessions: SessionManager) -> None:
        self.app = app
        self.sessions = sessions
        # A thread lock, not an asyncio one: a start may outlive the loop that began it.
        self._lock = threading.Lock()

    def passes(self, scope: Scope) -> bool:
        """Whether the app is started, or the scope needs no start
        (`algomancy_api.middleware.chain`)."""
        return self.sessions.started or scope["type"] not in ("http", "websocket")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self.sessions.started:
            problem = await self._start()
            if problem is not None:
                response = detail_response(503, problem, headers={"Retry-After": "5"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _start(self) -> str | None:
        """None once started, else what is wrong."""
        with anyio.move_on_after(STARTUP_TIMEOUT_SECONDS):
            try:
                await anyio.to_thread.run_sync(self._start_once, abandon_on_cancel=True)
            except Exception as exc:  # any failure to start is reported, never a 500
                log.error("the server could not start: %s", exc, exc_info=exc)
                if getattr(self.sessions.runtime.config, "metrics", False):
                    from algomancy_api.metrics import count_store_error

                    count_store_error(exc)
                return f"the server could not start: {type(exc).__name__}: {exc}"
            return None
        return (
            f"the server is still starting after {STARTUP_TIMEOUT_SECONDS:g} s "
            "(opening the store or the executor); try again shortly"
        )

    def _start_once(self) -> None:
        with self._lock:
            if not self.sessions.started:
                self.sessions.start()
