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
from fastapi.routing import APIRoute, APIRouter
from starlette.datastructures import State

from algomancy_api import middleware
from algomancy_api.config import ApiConfiguration
from algomancy_api.errors import install_error_handlers
from algomancy_api.etlchild import EtlChild, use_child
from algomancy_api.listing import ScenarioListCache
from algomancy_api.logbuffer import log_buffer
from algomancy_api.logs import install_request_id_records, redact_access_log
from algomancy_api.openapi import customise_openapi
from algomancy_api.resultviews import result_modules
from algomancy_api.routers import (
    admin,
    archive,
    audit,
    data,
    decisions,
    discovery,
    etl,
    experiments,
    kpis,
    platform,
    resultviews,
    run_reports,
    scenarios,
    session_events,
    sessions,
    studies,
)
from algomancy_api.routers.platform import package_version
from algomancy_api.webapp import install_assets, install_docs, install_webapp
from algomancy_api.webhooks import Webhooks, parse_webhooks
from algomancy_core import CoreConfig, SessionManager
from algomancy_core.stores import store_url
from algomancy_core.studies.driver import StudyDriver
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


class AppState(State):
    """`app.state`: `config`, `sessions` (the `SessionManager`), `webhooks`,
    `result_modules`, `scenario_lists` (the kept scenario views), `etl_child` (the
    `EtlChild` running uploads' ETL, or None: in-process); and
    `session_manager`, the name the reference's "Extending the API" page reads, for
    the same `sessions`."""

    @property
    def session_manager(self) -> SessionManager:
        sessions: SessionManager = self.sessions
        return sessions


def add_at_top(app: FastAPI, router: APIRouter, prefix: str) -> None:
    """Put the routes of `router` on `app` itself, under `prefix`, before any other
    route (call it before `include_router`): the status poll is matched first and
    once. FastAPI (0.165) keeps an included router as a branch that is matched
    twice (`matches`, then `_handle_selected`), after every branch included before
    it: a poll inside `scenarios` spent ~15% of its time in the server (in process,
    5,000 ASGI calls: 124 -> 107 us) finding its route. Bought figure: "1 status
    poll, in memory / bare FastAPI" (`benchmarks.bench_status`). The OpenAPI
    document is the same (the snapshot test). Before FastAPI's own `/openapi.json`
    route too, which a poll otherwise fails to match first (~1 us in process,
    `timeit` of its `matches`)."""
    routes = app.router.routes
    before = len(routes)
    for route in router.routes:
        assert isinstance(route, APIRoute)
        app.router.add_api_route(
            prefix + route.path,
            route.endpoint,
            methods=sorted(route.methods or ()),
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            name=route.name,
            route_class_override=type(route),
        )
    added = routes[before:]
    del routes[before:]
    routes[0:0] = added


#: FastAPI's own OpenTelemetry, off: it looks for a configured tracer, meter and
#: logger provider on every request (the environment read each time), ~4% of a status
#: poll's time in the server (py-spy under `benchmarks.loadgen`).
TELEMETRY_OFF: dict[str, Any] = {"tracing": False, "metrics": False, "logs": False}


def native_telemetry(cfg: ApiConfiguration) -> Any:
    """FastAPI's `telemetry` setting: FastAPI's defaults with `tracing` on (the
    instrumentation of `algomancy_api.tracing` makes the spans), off without it, as
    `tracing` promises ("off: no cost"). Bought figure: "1 status poll, in memory /
    bare FastAPI" (`benchmarks.bench_status`): 2-3 us of ~100 a poll in process
    (`python -m benchmarks.profile_poll 3000 whole`)."""
    return None if cfg.tracing else dict(TELEMETRY_OFF)


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
        manager.engine.observers.add(webhooks)
        manager.engine.services.append(webhooks)
        # Drives the optimisation studies whose lease it holds or can take.
        manager.engine.services.append(StudyDriver(manager.engine))
        redact_access_log()
        install_request_id_records()
        tracer_provider: Any = None

        # Uploads' ETL, in a child process started on the first upload.
        etl_child = EtlChild(cfg) if use_child(cfg) else None

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
                if etl_child is not None:
                    etl_child.close()
                manager.close()
                if tracer_provider is not None:
                    tracer_provider.shutdown()
                if cfg.metrics:
                    from algomancy_api.metrics import process_exited

                    process_exited(os.getpid())

        app = FastAPI(
            telemetry=native_telemetry(cfg),
            title=cfg.title,
            version=package_version(),
            description=DESCRIPTION,
            lifespan=lifespan,
            generate_unique_id_function=operation_id,
            # Served by install_docs with the vendored assets instead of a CDN's.
            docs_url=None,
            redoc_url=None,
        )
        app.state = AppState()
        app.state.config = cfg
        app.state.result_modules = result_modules(cfg)
        app.state.sessions = manager
        app.state.webhooks = webhooks
        app.state.etl_child = etl_child
        app.state.scenario_lists = ScenarioListCache()
        install_error_handlers(app)
        # The status poll on the app itself, first, then the scenario list (each
        # `add_at_top` goes before the routes already there); then the routers, flat, with the
        # scenario routes first: routes are matched in order, and every included
        # router costs a match on each request.
        add_at_top(app, scenarios.lists, cfg.prefix)
        add_at_top(app, scenarios.polls, cfg.prefix)
        routers = (
            archive,
            scenarios,
            sessions,
            session_events,
            discovery,
            data,
            etl,
            kpis,
            resultviews,
            experiments,
            studies,
            admin,
            audit,
            decisions,
            run_reports,
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
        tracer_provider = middleware.install(app, cfg, manager)
        customise_openapi(app, cfg)
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
            # No WebSocket routes: no WebSocket library loaded (2.5 MiB at rest).
            "ws": "none",
        }
        options |= uvicorn_options
        slowclients.configure(cfg.header_timeout_seconds, cfg.max_connections_awaiting_headers)
        slowclients.raise_open_file_limit()
        uvicorn.run(app, **options)
