"""`ConnectionDependencyRoute`: FastAPI's route, its connection-only dependencies
called without a nested solve (issue 22: "one caller dependency, made cheap rather
than bypassed"), its plain text path parameters read from the path.

FastAPI (0.165) solves every sub-dependency by a nested `solve_dependencies`:
a second pass over path, query, header and cookie parameters, a cache key (scopes
walk), three callable classifications and a result object, whatever the dependency
asks for. For `current_caller`, which asks only for the connection, that is the
largest cost of the status poll: in process (`python -m benchmarks.profile_poll`,
the poll route with and without `CallerDep`, interleaved, best of 30 rounds) ~12 us
of a ~72 us poll, against ~43 us for a bare FastAPI app's route. Declaring it
otherwise changes nothing (measured: `HTTPConnection` instead of `Request`, no
parameter at all, `scope="function"`, `use_cache=False`: each within the spread).

Bought figure: "1 status poll, in memory / bare FastAPI" (`benchmarks.bench_status`,
`benchmarks.poll_cpu`). In process, the poll's CPU time against a bare FastAPI app's
(the poll route swapped before the app is built, poll / our bare route / a bare
FastAPI app interleaved in batches of 200 calls, best of 30 rounds, three runs on 2
shared cores): 1.72x, 1.80x, 1.67x with FastAPI's solving; 1.42x, 1.46x, 1.46x with
this route class; 1.44x, 1.38x, 1.26x for the same poll with no caller at all. So
the caller now costs what the poll would cost without one.

The same for a *plain text path parameter* (`is_plain_text`: annotated `str`, no
constraint, no alias, its path segment a text convertor's): FastAPI's solving
(`request_params_to_args`: alias lookup, sequence checks, a pydantic validation that
returns the text unchanged) cost ~4 us each; the wrapper takes it from the path's
`path_params`. Bought figure, the poll's `session_id` and `scenario_id` (issue 22,
2026-12-06, helper poll2): in process, poll / bare FastAPI app (40 interleaved
rounds of 200 calls, best round, this tree and the previous commit's in turn, three
pairs, load ~4 on 2 shared cores): 1.43x / 1.42x / 1.59x before, 1.12x / 1.14x /
1.27x after (poll 61-71 us -> 49-60 us, the bare app 43-47 us in both); the poll's
`solve_dependencies` alone (`timeit`-style, 30 rounds) 17.1 -> 8.3 us. A parameter
with a constraint, or an `int` convertor, stays FastAPI's (its 422 unchanged).

This route class keeps the dependency where it is declared (the endpoint's
signature, so the OpenAPI document and `app.dependency_overrides` see it) and
FastAPI's handler for all the rest (parameters, body, errors, response model,
serialisation). Only two solvings change: of a *connection leaf*, a sub-dependency
that is a coroutine function asking for nothing but the `Request` or
`HTTPConnection` (no parameters, no dependencies of its own, no security scopes,
no concurrency limit, not a generator), and a plain text path parameter.
FastAPI's handler is built for the endpoint without those, and the endpoint is
wrapped to take the texts from the path and call each leaf with the request (once
a request per callable, as FastAPI's cache does) before calling it. Whenever
`dependency_overrides` holds anything, the request goes to FastAPI's own handler,
built beside it, so overrides act as always.

One difference, for leaves that fail: FastAPI calls the dependencies before it
validates the endpoint's own parameters, this route after (a request failing both
gets the parameter's 422 here, the dependency's error with FastAPI's). Used for the
status poll, whose leaf (`current_caller`) never fails and whose path parameters are
plain strings. And one wart: the wrapper copies the endpoint's name, module and
signature (`functools.wraps`), but a validation error's log text names this file as
the endpoint's (FastAPI reads the file from the function's code object).

Only for routes on the app itself (`add_at_top`): FastAPI 0.165 builds the handler
of an included router's route from a context of its own (a private API), whose
dependant this class leaves alone, so such a route behaves, and costs, as FastAPI's.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi._compat import ModelField
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, PathConvertor, StringConvertor
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

#: The name under which the flattened endpoint receives the request, when the
#: endpoint does not ask for it itself (not a valid identifier: no clash).
_REQUEST = "connection leaves' request"


def is_connection_leaf(dependant: Dependant) -> bool:
    """Whether the sub-dependency `dependant` asks only for the connection."""
    call = dependant.call
    return (
        dependant.name is not None
        and call is not None
        and inspect.iscoroutinefunction(call)
        and not dependant.dependencies
        and not (
            dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.body_params
        )
        and dependant.websocket_param_name is None
        and dependant.response_param_name is None
        and dependant.background_tasks_param_name is None
        and dependant.security_scopes_param_name is None
        and not dependant.own_oauth_scopes
        and not dependant.parent_oauth_scopes
        and dependant.concurrency is None
        and dependant.scope in (None, "function")
    )


def is_plain_text(field: ModelField, convertors: Mapping[str, Convertor[Any]]) -> bool:
    """Whether the path parameter `field` is a plain `str` (no constraint, no alias)
    that the route's path gives as text: validating it returns it unchanged."""
    info = field.field_info
    return (
        info.annotation is str
        and not info.metadata
        and info.alias in (None, field.name)
        and info.validation_alias is None
        and isinstance(convertors.get(field.name), (StringConvertor, PathConvertor))
    )


def flattened(
    dependant: Dependant, convertors: Mapping[str, Convertor[Any]] | None = None
) -> Dependant | None:
    """`dependant` without its connection leaves and its plain text path parameters
    (`is_plain_text` with the route's path `convertors`), its call wrapped to add
    their values; None when it has neither."""
    leaves = [d for d in dependant.dependencies if is_connection_leaf(d)]
    texts = tuple(f.name for f in dependant.path_params if is_plain_text(f, convertors or {}))
    if not (leaves or texts) or dependant.call is None:
        return None
    endpoint = dependant.call
    # (name, call, its keyword arguments that take the request, whether cached).
    plan: list[tuple[str, Callable[..., Any], tuple[str, ...], bool]] = []
    for leaf in leaves:
        assert leaf.name is not None and leaf.call is not None
        names = tuple(n for n in (leaf.request_param_name, leaf.http_connection_param_name) if n)
        plan.append((leaf.name, leaf.call, names, leaf.use_cache))
    own_request = dependant.request_param_name
    request_key = own_request or _REQUEST

    @functools.wraps(endpoint)
    async def call_leaves(**values: Any) -> Any:
        request = values[request_key] if own_request else values.pop(request_key)
        path = request.scope["path_params"]
        for name in texts:
            values[name] = path[name]
        solved: dict[Callable[..., Any], Any] = {}
        for name, leaf_call, takes, use_cache in plan:
            if use_cache and leaf_call in solved:
                values[name] = solved[leaf_call]
                continue
            value = await leaf_call(**dict.fromkeys(takes, request))
            solved[leaf_call] = values[name] = value
        return await endpoint(**values)

    return dataclasses.replace(
        dependant,
        dependencies=[d for d in dependant.dependencies if not is_connection_leaf(d)],
        path_params=[f for f in dependant.path_params if f.name not in texts],
        call=call_leaves,
        request_param_name=request_key,
    )


class ConnectionDependencyRoute(APIRoute):
    """An `APIRoute` whose connection leaves are called without a nested solve
    (see the module's docstring); any other route is FastAPI's as it is."""

    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()
        flat = flattened(self.dependant, self.param_convertors)
        if flat is None:
            return standard
        declared = self.dependant
        self.dependant = flat
        try:
            cheap = super().get_route_handler()
        finally:
            self.dependant = declared
        provider = self.dependency_overrides_provider

        async def handler(request: Request) -> Response:
            if provider is not None and getattr(provider, "dependency_overrides", None):
                return await standard(request)
            return await cheap(request)

        return handler
