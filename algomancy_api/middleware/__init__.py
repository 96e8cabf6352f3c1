"""The HTTP edge: every middleware of the app, one module per concern, installed
by `install` in one place.

The order, outermost first (a request meets them in this order; its answer leaves
through them in reverse), and why each is where it is:

Around Starlette's own stack (its error middleware outermost), so that a 500 of an
unhandled error goes through them like every other answer, 1-3 in one layer,
`AnswerLayer` (`answers`), which runs them in this order:

1. `RequestIds` (`requestids`): a 500 carries its id, and every log line of the
   request, the traceback's included, names it. Outside the metrics: their time
   and the answer's status include its work.
2. `RequestMetrics` (`metrics`, when `metrics` is on): a 500 is counted with its
   status, and the time spent in every check below is counted.
3. `SecurityHeaders` (`headers`): an unhandled error's 500 carries the headers too.
4. OpenTelemetry's middleware (`algomancy_api.tracing`, when `tracing` is on): the
   instrumentation takes Starlette's stack apart to put its span around it, so it
   is installed before 1-3 wrap the stack.

Inside Starlette's error middleware, 5-14 in one layer, `Chain` (`chain`), which
builds them in this order and lets a request in at the first with work to do:

5. `RecordPeer` (`auth`): keeps the TCP peer before `X-Forwarded-For` replaces it:
   `trusted_proxies` is judged on the address that really connected.
6. uvicorn's `ProxyHeadersMiddleware` (when `forwarded_allow_ips` is set): in the
   app, so every host behaves the same; everything inside sees the client and
   scheme the trusted proxy reports.
7. `SiteCheck` (`sitecheck`): a rebinding Host or a cross-site write is refused
   before anything else looks at the request, CORS and credentials included.
8. Starlette's `CORSMiddleware` (when `cors_origins` is set): preflights are
   answered without credentials.
9. `UserContextMiddleware` (`auth`, when authentication is on): 401 without
   credentials, before any body is read.
10. `BodySizeLimit` (`bodysize`): 413, 408 or 503 for a body over its limit, too
    slow, or over the uploads' budget, before anything inside reads it.
11. `JsonDepthLimit` (`jsonbody`): 400 for a JSON body nested too deep or too
    large in nodes, within the size the limit above let through.
12. `RefuseNulPaths` (`nulpaths`): 404 for a path holding NUL, before a route or
    the store sees it.
13. `StartOnFirstRequest` (`startup`): starts the store and executor when the host
    ran no lifespan; the refusals outside it need no started store.
14. `AuditWrites` (`audit`): innermost, so the audit of a write has the caller
    and a started store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from algomancy_api.middleware.answers import AnswerLayer
from algomancy_api.middleware.audit import AuditWrites
from algomancy_api.middleware.auth import RecordPeer, UserContextMiddleware
from algomancy_api.middleware.bodysize import BodySizeLimit
from algomancy_api.middleware.chain import Chain, Layer
from algomancy_api.middleware.headers import SecurityHeaders
from algomancy_api.middleware.jsonbody import JsonDepthLimit
from algomancy_api.middleware.nulpaths import RefuseNulPaths
from algomancy_api.middleware.requestids import HEADER as REQUEST_ID_HEADER
from algomancy_api.middleware.requestids import RequestIds
from algomancy_api.middleware.sitecheck import SiteCheck
from algomancy_api.middleware.startup import StartOnFirstRequest

if TYPE_CHECKING:
    from algomancy_api.config import ApiConfiguration
    from algomancy_core import SessionManager

__all__ = ["install"]


def install(app: FastAPI, cfg: ApiConfiguration, sessions: SessionManager) -> Any:
    """Install every middleware of `app` in the order of the module's docstring.
    Returns the tracer provider tracing made (to shut down with the app), or None."""
    inner: list[Layer] = [(RecordPeer, {})]
    if cfg.forwarded_allow_ips is not None:
        inner.append((ProxyHeadersMiddleware, {"trusted_hosts": cfg.forwarded_allow_ips}))
    inner.append(
        (
            SiteCheck,
            {
                "allowed_hosts": cfg.served_hosts,
                "allowed_origins": cfg.cors_origins,
                "openapi": lambda: app.openapi(),
                "routes": lambda: app.routes,
            },
        )
    )
    if cfg.cors_origins:
        cors = {
            "allow_origins": cfg.cors_origins,
            "allow_methods": ["*"],
            "allow_headers": ["*"],
            "allow_credentials": True,
            # A front end on another origin can read the id to quote in a report.
            "expose_headers": [REQUEST_ID_HEADER],
        }
        inner.append((CORSMiddleware, cors))
    if cfg.auth_enabled:
        auth = {
            "api_keys": cfg.api_keys,
            "identity_header": cfg.identity_header,
            "public_docs": cfg.public_docs,
            "trusted_proxies": cfg.trusted_proxies,
        }
        inner.append((UserContextMiddleware, auth))
    limits = {
        "max_bytes": cfg.max_upload_bytes,
        "in_flight_bytes": cfg.max_uploads_in_flight_bytes,
        "max_json_bytes": cfg.max_json_bytes,
        "prefix": cfg.prefix,
        "per_client_bytes": cfg.upload_share_per_client,
        "min_bytes_per_second": cfg.min_body_bytes_per_second,
        "grace_seconds": cfg.body_grace_seconds,
        "metrics": cfg.metrics,
    }
    depth = {"max_depth": cfg.max_json_depth, "prefix": cfg.prefix, "max_nodes": cfg.max_json_nodes}
    inner += [
        (BodySizeLimit, limits),
        (JsonDepthLimit, depth),
        (RefuseNulPaths, {}),
        (StartOnFirstRequest, {"sessions": sessions}),
        (AuditWrites, {"sessions": sessions, "prefix": cfg.prefix}),
    ]
    app.add_middleware(Chain, layers=inner)

    tracer_provider = None
    if cfg.tracing:
        from algomancy_api.tracing import install_tracing

        tracer_provider = install_tracing(app, sessions.runtime.observers)

    answers = {
        "ids": RequestIds(cfg.trusted_proxies),
        "metrics": metrics_of(cfg),
        "headers": SecurityHeaders(cfg.frame_ancestors),
    }
    wrap_stack(app, [(AnswerLayer, answers)])
    return tracer_provider


def metrics_of(cfg: ApiConfiguration) -> Any:
    """The `RequestMetrics` of `AnswerLayer` when `metrics` is on, else None."""
    if not cfg.metrics:
        return None
    from algomancy_api.middleware.metrics import RequestMetrics

    return RequestMetrics(cfg.prefix)


def wrap_stack(app: FastAPI, layers: list[Layer]) -> None:
    """Wrap `app`'s whole middleware stack, Starlette's error middleware included
    (which `add_middleware` would put outside), in `layers`, outermost first."""
    build_stack = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        stack = build_stack()
        for middleware, options in reversed(layers):
            stack = middleware(stack, **options)
        return stack

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
