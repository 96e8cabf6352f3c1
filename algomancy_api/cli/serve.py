"""`algomancy-api serve`: serve the example domain or your own configuration."""

from __future__ import annotations

import dataclasses
import gc
import logging
import logging.config
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import click

from algomancy_api.envnames import ENV_SPEC
from algomancy_api.logs import FORMATS, LEVELS, logging_config
from algomancy_api.multiproc import prepare_multiproc_dir, remove_multiproc_dir

if TYPE_CHECKING:  # the server stack is imported only when `serve` runs
    from fastapi import FastAPI

    from algomancy_api.config import ApiConfiguration

EXAMPLE = "algomancy_example.domain:example_settings"
EXECUTORS = ("thread", "process", "dask")


@dataclasses.dataclass(frozen=True)
class ServeOptions:
    """The flags of `serve`, as given (None: not given)."""

    example: bool = False
    config: str | None = None
    host: str | None = None
    port: int | None = None
    workers: int | None = None
    data_path: str | None = None
    in_memory: bool = False
    database_url: str | None = None
    executor: str | None = None
    dask_address: str | None = None
    max_workers: int | None = None
    no_ui: bool = False
    forwarded_allow_ips: str | None = None
    trusted_proxies: str | None = None
    admin_users: str | None = None
    allowed_hosts: str | None = None
    log_level: str = "info"
    log_format: str = "text"
    validate: bool = False


def overrides_from(args: ServeOptions) -> dict[str, Any]:
    """Configuration fields the flags set; flags win over the configuration."""
    values: dict[str, Any] = {}
    if args.example:
        # The example keeps its state under --data-path (default ./algomancy-data).
        values["has_persistent_state"] = True
        values["data_path"] = "algomancy-data"
    for field in (
        "host",
        "port",
        "workers",
        "data_path",
        "database_url",
        "executor",
        "dask_address",
        "max_workers",
        "forwarded_allow_ips",
        "trusted_proxies",
        "admin_users",
        "allowed_hosts",
    ):
        value = getattr(args, field)
        if value is not None:
            values[field] = value
    if args.no_ui:
        values["ui"] = False
    if args.data_path is not None and not args.in_memory:
        values["has_persistent_state"] = True
    if args.in_memory:
        values["has_persistent_state"] = False
        values["database_url"] = None
    return values


def import_from(folder: str) -> None:
    """Import `--config` modules from `folder` first, as uvicorn does with the
    current folder (its `--app-dir`)."""
    if folder not in sys.path:
        sys.path.insert(0, folder)


def app_from_environment() -> FastAPI:
    """The app for the configuration the CLI put in the environment (a uvicorn
    factory, so that every worker process builds its own)."""
    from algomancy_api.deployment import DeploymentSettings
    from algomancy_api.launcher import ApiLauncher
    from algomancy_api.loading import load_config

    settings = DeploymentSettings()
    import_from(settings.app_dir or os.getcwd())
    if settings.config is None:
        raise RuntimeError(f"{ENV_SPEC} is not set: export it as `--config` takes it")
    # The import path lets the ETL child process load the configuration again.
    overrides = {"config_import_path": settings.config, **settings.overrides}
    config = load_config(settings.config).replace(**overrides)
    app = ApiLauncher.build(config)
    guard_connections(config)
    keep_startup_objects_out_of_gc()
    return app


def seed_from_environment() -> None:
    """Make the default session, with the configuration's initial datasets, in the
    store the environment's configuration names (see `seed_in_a_child`)."""
    from algomancy_api.deployment import DeploymentSettings
    from algomancy_api.loading import load_config
    from algomancy_core import SessionManager

    settings = DeploymentSettings()
    import_from(settings.app_dir or os.getcwd())
    assert settings.config is not None
    sessions = SessionManager(load_config(settings.config).replace(**settings.overrides))
    try:
        sessions.ensure_main(None)
    finally:
        sessions.close()


_SEED = "from algomancy_api.cli.serve import seed_from_environment; seed_from_environment()"


def seed_in_a_child(config: ApiConfiguration) -> None:
    """On a store shared between processes, make the default session and its initial
    datasets in a child process before the server starts, when the configuration
    has initial datasets: they usually go through the ETL (pandas, ~70 MiB), which
    the server then never imports at rest (`benchmarks.rss`, ``serve --example`` on a
    new data path: 182 -> ~86 MiB). The child exits when done; if it fails, the server
    makes the session itself at start, as before, and reports what went wrong."""
    if config.initial_datasets is None or not config.is_shared_state:
        return
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from algomancy_api.cli.serve import seed_from_environment as s; s()",
        ],
        check=False,
        capture_output=True,
    )
    if done.returncode != 0:
        logging.getLogger("algomancy.cli").debug(
            "making the default session in a child failed; the server makes it: %s",
            done.stderr.decode(errors="replace")[-2000:],
        )


def guard_connections(config: ApiConfiguration) -> None:
    """Set this process's limits on connections (`algomancy_api.slowclients`): the
    header deadline, and how many connections may wait for their headers."""
    from algomancy_api import slowclients

    slowclients.configure(config.header_timeout_seconds, config.max_connections_awaiting_headers)


def keep_startup_objects_out_of_gc() -> None:
    """Move what the server holds for good (modules, the domain, the app) out of
    the garbage collector's sight. Under load, requests awaiting the database are
    alive at each young collection and get promoted, so full collections come every
    second or so; each one walked every object of the process and held the event
    loop for ~100 ms (the 1% of slow polls on PostgreSQL). Frozen objects are never
    walked again, so a full collection walks only what came after."""
    gc.collect()
    gc.freeze()


def run_serve(args: ServeOptions) -> int:
    """Validate the configuration, then run uvicorn until stopped; the exit code.
    With several workers, Prometheus' multiprocess folder is set up first (see
    `algomancy_api.multiproc`)."""
    from algomancy_api.loading import ConfigLoadError, load_config
    from algomancy_api.slowclients import raise_open_file_limit

    spec = EXAMPLE if args.example else args.config
    assert spec is not None  # the command requires one of --example and --config
    overrides = overrides_from(args)
    app_dir = os.getcwd()
    import_from(app_dir)
    try:
        # Validate once here, so that a mistake is one clear line, not a worker crash.
        config = load_config(spec).replace(**overrides)
    except (ConfigLoadError, ValueError) as exc:
        print(f"algomancy-api: {exc}", file=sys.stderr)
        return 2
    if args.validate:
        from algomancy_api.cli.validate import validate_wiring

        return validate_wiring(config, spec, print)
    from algomancy_api.deployment import DeploymentSettings

    # For the app factory in each server process (`app_from_environment`).
    DeploymentSettings.given(config=spec, overrides=overrides, app_dir=app_dir).export()
    log_config = logging_config(args.log_level, args.log_format)
    logging.config.dictConfig(log_config)
    where = (
        f"http://{config.host}:{config.port}{config.prefix}"
        if config.port
        else f"{config.host} on a free port (uvicorn names it), under {config.prefix}"
    )
    logging.getLogger("algomancy.cli").info("serving %s on %s (docs at /docs)", config.title, where)
    # Held connections cost a file each: the soft limit (often 1,024) is raised to
    # the hard one, for this process and the workers it starts.
    raise_open_file_limit()
    several = config.workers > 1
    made = prepare_multiproc_dir() if several and getattr(config, "metrics", True) else None
    seed_in_a_child(config)
    try:
        _run_uvicorn(config, args, log_config)
    finally:
        if made is not None:
            remove_multiproc_dir(made)
    return 0


def _run_uvicorn(config: Any, args: ServeOptions, log_config: dict[str, Any]) -> None:
    import uvicorn

    from algomancy_api.slowclients import HTTP_PROTOCOL

    uvicorn.run(
        "algomancy_api.cli:app_from_environment",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers if config.workers > 1 else None,
        log_level=args.log_level,
        log_config=log_config,
        # Forwarded headers are the app's business (`forwarded_allow_ips`).
        proxy_headers=False,
        # uvicorn's protocol with a deadline on each request's headers.
        http=HTTP_PROTOCOL,
        # No WebSocket routes: no WebSocket library loaded (2.5 MiB of RSS at rest).
        ws="none",
    )


@click.command("serve")
@click.option("--example", is_flag=True, help="Serve the warehouse example.")
@click.option("--config", metavar="MODULE:ATTRIBUTE", help="Your configuration.")
@click.option("--host", help="Interface to listen on.")
@click.option("--port", type=int, help="Port (0: a free one).")
@click.option("--workers", type=int, metavar="N", help="Server processes.")
@click.option("--data-path", metavar="DIR", help="Where state is kept.")
@click.option("--in-memory", is_flag=True, help="Keep nothing across restarts.")
@click.option("--database-url", metavar="URL", help="SQL store: sqlite:///FILE or postgresql://...")
@click.option("--executor", type=click.Choice(EXECUTORS), help="Where runs run.")
@click.option("--dask-address", metavar="ADDR", help="The Dask scheduler.")
@click.option("--max-workers", type=int, metavar="N", help="Concurrent runs.")
@click.option("--no-ui", is_flag=True, help="Do not serve the web app at /.")
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    help="Comma-separated addresses whose X-Forwarded-* headers are trusted ('*': any).",
)
@click.option(
    "--trusted-proxies",
    metavar="IPS",
    help="Comma-separated addresses or CIDR ranges whose identity header is believed.",
)
@click.option(
    "--admin-users",
    metavar="NAMES",
    help="Comma-separated user names that see and manage every session.",
)
@click.option(
    "--allowed-hosts",
    metavar="HOSTS",
    help="Comma-separated Host header values served (name, name:port, *.domain, *).",
)
@click.option(
    "--log-level", type=click.Choice(LEVELS), default="info", show_default=True, help="Log level."
)
@click.option(
    "--log-format",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text or JSON lines.",
)
@click.option(
    "--validate",
    is_flag=True,
    help="Build the wiring, check it (store included), print it and exit (0: fine).",
)
@click.pass_context
def serve(ctx: click.Context, **flags: Any) -> int:
    """Serve the HTTP API (and the web app) for the example or your configuration."""
    options = ServeOptions(**flags)
    if options.example == (options.config is not None):
        raise click.UsageError("give exactly one of --example and --config", ctx)
    if options.in_memory and options.database_url is not None:
        raise click.UsageError("--in-memory and --database-url exclude each other", ctx)
    return run_serve(options)


def parse_serve(argv: list[str]) -> ServeOptions:
    """The options `serve argv...` would run with, without running it."""
    with serve.make_context("serve", list(argv)) as ctx:
        return ServeOptions(**ctx.params)
