"""`ApiLauncher`: turn a configuration into a FastAPI app, and serve it."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from algomancy_api.answers import declare_answers
from algomancy_api.audit import AuditWrites
from algomancy_api.auth import PUBLIC_PATHS, RecordPeer, UserContextMiddleware, declare_api_keys
from algomancy_api.config import ApiConfiguration
from algomancy_api.errors import RefuseNulPaths, install_error_handlers
from algomancy_api.headers import add_security_headers
from algomancy_api.jsonbody import JsonDepthLimit
from algomancy_api.logbuffer import log_buffer
from algomancy_api.logs import install_request_id_records, redact_access_log
from algomancy_api.requestids import HEADER as REQUEST_ID_HEADER
from algomancy_api.requestids import add_request_ids
from algomancy_api.resultviews import result_modules
from algomancy_api.routers import (
    admin,
    archive,
    audit,
    data,
    decisions,
    discovery,
    experiments,
    kpis,
    platform,
    resultviews,
    scenarios,
    session_events,
    sessions,
)
from algomancy_api.routers.platform import package_version
from algomancy_api.sitecheck import SiteCheck, declare_refusals
from algomancy_api.startup import StartOnFirstRequest
from algomancy_api.uploads import BodySizeLimit
from algomancy_api.webapp import install_assets, install_docs, install_webapp
from algomancy_api.webhooks import Webhooks, parse_webhooks
from algomancy_core import CoreConfig, SessionManager
from algomancy_core.stores import store_url
from algomancy_data.parsepool import configure_shared_pool

log = logging.getLogger("algomancy.api")

DESCRIPTION = """\
Run parameterised algorithms over your own data as **scenarios**, compare their KPIs.

Every route but `/health` and `/me` lives under a session: `/sessions/{session_id}/...`,
where `session_id` is the session's UUID or its current display name (`main` always works
on a fresh server). Errors always answer `{"detail": "..."}`.
"""


def log_startup(cfg: ApiConfiguration, store_name: str) -> None:
    """What the server runs with, one line each: store, data path, executor, auth."""
    url = store_url(cfg)
    where = (
        "in memory, nothing is kept across restarts"
        if url is None
        else sa.make_url(url).render_as_string(hide_password=True)
    )
    log.info("serving %s under %s", cfg.title, cfg.prefix)
    log.info("store: %s (%s)", store_name, where)
    if cfg.has_persistent_state or cfg.database_url:
        log.info("data path: %s", Path(cfg.data_path).expanduser().resolve())
    executor = f"executor: {cfg.executor}, up to {cfg.max_workers} runs at once"
    if cfg.executor == "dask":
        executor += f" on {cfg.dask_address or 'a local cluster'}"
    log.info(executor)
    if not cfg.auth_enabled:
        log.info("authentication: off (every caller is anonymous)")
    else:
        ways = []
        if cfg.api_keys:
            ways.append(f"{len(cfg.api_keys)} API key(s)")
        if cfg.identity_header:
            proxies = ", ".join(cfg.trusted_proxies)
            ways.append(f"identity header {cfg.identity_header} from {proxies}")
        log.info("authentication: on (%s)", ", ".join(ways))
    hosts = cfg.served_hosts
    if hosts == ["*"]:
        log.warning(
            "allowed_hosts: any Host is served (bound to %s); set allowed_hosts to the "
            "names this server is reached by, against DNS rebinding",
            cfg.host,
        )
    else:
        log.info("allowed hosts: %s", ", ".join(hosts))


def operation_id(route: APIRoute) -> str:
    """`{tag}-{name}`, so generated clients read well."""
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


class ApiLauncher:
    """Builds the app (`build`) and serves it with uvicorn (`run`)."""

    @staticmethod
    def build(config: ApiConfiguration | CoreConfig | Mapping[str, Any]) -> FastAPI:
        """A plain FastAPI app for `config` (an `ApiConfiguration`, a `CoreConfig`
        or a dict of their fields), ready for uvicorn or gunicorn.

        Building is cheap and opens nothing: the store and the executor open at
        startup (the lifespan, or the first request when the host skips it)."""
        cfg = ApiConfiguration.coerce(config)
        manager = SessionManager(cfg)
        webhooks = Webhooks(
            parse_webhooks(cfg.webhooks),
            lambda: manager.engine.store.deliveries,
            max_attempts=cfg.webhook_max_attempts,
            retry_seconds=cfg.webhook_retry_seconds,
            timeout_seconds=cfg.webhook_timeout_seconds,
        )
        manager.engine.run_end_hooks.append(webhooks.on_scenario_change)
        manager.engine.services.append(webhooks)
        redact_access_log()
        install_request_id_records()
        tracer_provider: Any = None

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            configure_shared_pool(cfg.xlsx_parse_workers)
            # Again: the server's logging configuration, applied since the build,
            # drops the handlers of the loggers it names.
            log_buffer(cfg.admin_log_lines)
            manager.start()
            log_startup(cfg, type(manager.engine.store).__name__)
            try:
                yield
            finally:
                manager.close()
                if tracer_provider is not None:
                    tracer_provider.shutdown()
                if cfg.metrics:
                    from algomancy_api.metrics import process_exited

                    process_exited(os.getpid())

        app = FastAPI(
            title=cfg.title,
            version=package_version(),
            description=DESCRIPTION,
            lifespan=lifespan,
            generate_unique_id_function=operation_id,
            # Served by install_docs with the vendored assets instead of a CDN's.
            docs_url=None,
            redoc_url=None,
        )
        app.state.config = cfg
        app.state.result_modules = result_modules(cfg)
        app.state.sessions = manager
        app.state.webhooks = webhooks
        # The name the reference's "Extending the API" page reads.
        app.state.session_manager = manager
        install_error_handlers(app)
        # Flat, with the scenario routes (the polled ones) first: routes are matched
        # in order, and every nesting level costs a match on each request.
        routers = (
            archive,
            scenarios,
            sessions,
            session_events,
            discovery,
            data,
            kpis,
            resultviews,
            experiments,
            admin,
            audit,
            decisions,
        )
        for router in routers:
            app.include_router(router.router, prefix=cfg.prefix)
        app.include_router(platform.router)
        if cfg.metrics:
            from algomancy_api.metrics import METRICS_PATH, RunMetrics, metrics_endpoint

            app.add_route(METRICS_PATH, metrics_endpoint, methods=["GET"], include_in_schema=False)
            manager.engine.observers.add(RunMetrics())
        app.include_router(admin.app_router)
        log_buffer(cfg.admin_log_lines)
        install_assets(app)
        install_docs(app)
        if cfg.ui:
            install_webapp(app, cfg.prefix)
        # Innermost: the refusals outside it (size, credentials) need no started store.
        app.add_middleware(AuditWrites, sessions=manager, prefix=cfg.prefix)
        app.add_middleware(StartOnFirstRequest, sessions=manager)
        app.add_middleware(RefuseNulPaths)
        app.add_middleware(
            JsonDepthLimit,
            max_depth=cfg.max_json_depth,
            prefix=cfg.prefix,
            max_nodes=cfg.max_json_nodes,
        )
        app.add_middleware(
            BodySizeLimit,
            max_bytes=cfg.max_upload_bytes,
            in_flight_bytes=cfg.max_uploads_in_flight_bytes,
            max_json_bytes=cfg.max_json_bytes,
            prefix=cfg.prefix,
            per_client_bytes=cfg.upload_share_per_client,
            min_bytes_per_second=cfg.min_body_bytes_per_second,
            grace_seconds=cfg.body_grace_seconds,
            metrics=cfg.metrics,
        )
        if cfg.auth_enabled:
            app.add_middleware(
                UserContextMiddleware,
                api_keys=cfg.api_keys,
                identity_header=cfg.identity_header,
                public_docs=cfg.public_docs,
                trusted_proxies=cfg.trusted_proxies,
            )
            if cfg.api_keys:
                declare_api_keys(app)
        if cfg.cors_origins:
            app.add_middleware(
                CORSMiddleware,
                allow_origins=cfg.cors_origins,
                allow_methods=["*"],
                allow_headers=["*"],
                allow_credentials=True,
                # A front end on another origin can read the id to quote in a report.
                expose_headers=[REQUEST_ID_HEADER],
            )
        # Outside CORS and the credentials: a rebinding Host or a cross-site write is
        # refused before anything else looks at the request.
        app.add_middleware(
            SiteCheck,
            allowed_hosts=cfg.served_hosts,
            allowed_origins=cfg.cors_origins,
            openapi=lambda: app.openapi(),
        )
        declare_refusals(
            app,
            host_check=cfg.served_hosts != ["*"],
            authenticated=cfg.auth_enabled,
            public_paths=PUBLIC_PATHS,
        )
        declare_answers(app)
        if cfg.forwarded_allow_ips is not None:
            # Outermost, so that everything inside sees the client and scheme the
            # trusted proxy reports; in the app, so every host behaves the same.
            app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=cfg.forwarded_allow_ips)
        # Outside even that: the TCP peer, before X-Forwarded-For replaces it, is
        # what `trusted_proxies` is judged on.
        app.add_middleware(RecordPeer)
        if cfg.tracing:
            from algomancy_api.tracing import install_tracing

            # Before the wrappers below: the instrumentation takes Starlette's own
            # stack apart (its error middleware outermost) to put its span around it.
            tracer_provider = install_tracing(app, manager.engine.observers)
        add_security_headers(app, cfg.frame_ancestors)
        if cfg.metrics:
            from algomancy_api.metrics import add_request_metrics

            add_request_metrics(app, cfg.prefix)
        # Outside the metrics: their time and the answer's status include its work.
        add_request_ids(app, cfg.trusted_proxies)
        return app

    @staticmethod
    def run(
        app: FastAPI, host: str | None = None, port: int | None = None, **uvicorn_options: Any
    ) -> None:
        """Serve `app` with uvicorn (blocks), on `host` and `port` or the configured
        ones; other keyword arguments go to `uvicorn.run`."""
        import uvicorn

        from algomancy_api import slowclients

        cfg: ApiConfiguration = app.state.config
        options: dict[str, Any] = {
            "host": host or cfg.host,
            "port": cfg.port if port is None else port,
            "log_level": "info",
            # Forwarded headers are the app's business (`forwarded_allow_ips`).
            "proxy_headers": False,
            # uvicorn's protocol with a deadline on each request's headers.
            "http": slowclients.HTTP_PROTOCOL,
        }
        options |= uvicorn_options
        slowclients.configure(cfg.header_timeout_seconds, cfg.max_connections_awaiting_headers)
        slowclients.raise_open_file_limit()
        uvicorn.run(app, **options)
