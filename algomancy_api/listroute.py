"""`KeptListRoute`: the scenario list's route, answering a request it answered
before, at the same store change stamp, ahead of FastAPI's handler (issue 23).

`ScenarioListCache.answered` (`algomancy_api.listing`) keeps the last few answers of
`GET …/scenarios` by the request as it came: the session as the path names it, the
caller, and the raw query string. Any commit to the store changes its change stamp,
so while the stamp holds, the answer kept for the same request is the answer. The
route asked for it inside the endpoint, after FastAPI had solved the endpoint's
dependencies and validated its four query parameters; this route class asks first,
and calls FastAPI's handler (parameters, dependencies, errors, the endpoint) only when
nothing is kept. A request whose query fails validation is never kept (its answer is
an error, never noted), so it still meets FastAPI's 422.

What py-spy showed (``-r 1000 --idle``, the server while a loop GETs the summary of
1,000 scenarios, SQLite, a kept answer): of the event loop's busy samples, FastAPI's
`solve_dependencies` (mostly the query parameters' validation) was 23%, and its
handler around the endpoint a few percent more; the endpoint itself ~8% (the stamp's
read, `PRAGMA data_version`). Bought figure: "GET scenarios, summary (1000 of 1,000,
0.41 MB), server CPU per request / orjson.dumps" (`python -m benchmarks.lists`; the
figures are in its docstring).

The route is on the app itself, right after the status poll (`add_at_top`): not
matched after every route of the routers included before it (in process, 47 -> 33
us a kept summary through the whole ASGI app).

Whenever `app.dependency_overrides` holds anything, or the store's reads wait (their
stamp would be read on the event loop), the request goes to FastAPI's handler as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from algomancy_api.deps import Caller, current_caller
from algomancy_api.listing import ScenarioListCache
from algomancy_api.routers import JSON
from algomancy_core import SessionManager

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def list_request(request: Request, caller: Caller) -> tuple[object, ...]:
    """The list request as it came, for `ScenarioListCache.answered`: the session as
    its path names it, the caller, the raw query string."""
    return (request.path_params.get("session_id"), caller, request.scope.get("query_string"))


async def kept_answer(request: Request) -> Response | None:
    """The answer kept for the same list request at the store's current change stamp,
    else None."""
    app = request.scope["app"]
    if app.dependency_overrides:
        return None
    sessions: SessionManager = app.state.sessions
    store = sessions.runtime.store
    if not store.inline_reads:
        return None
    cache: ScenarioListCache = app.state.scenario_lists
    _, body = cache.answered(store, list_request(request, await current_caller(request)))
    return None if body is None else Response(body, media_type=JSON)


class KeptListRoute(APIRoute):
    """An `APIRoute` that answers a kept list answer before FastAPI's handler (see the
    module's docstring)."""

    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()

        async def handler(request: Request) -> Response:
            kept = await kept_answer(request)
            return kept if kept is not None else await standard(request)

        return handler
