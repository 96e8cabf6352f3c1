"""`algomancy-api serve`: serve the example domain or your own configuration."""

from __future__ import annotations

import argparse
import json
import logging
import logging.config
import os
import sys
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from algomancy_api.logs import FORMATS, LEVELS, logging_config

ENV_SPEC = "ALGOMANCY_CONFIG"
ENV_OVERRIDES = "ALGOMANCY_OVERRIDES"
#: The folder `--config` modules are imported from first (the one `serve` ran in).
ENV_APP_DIR = "ALGOMANCY_APP_DIR"
EXAMPLE = "algomancy_example.domain:example_settings"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="algomancy-api", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API")
    source = serve.add_mutually_exclusive_group(required=True)
    source.add_argument("--example", action="store_true", help="serve the warehouse example")
    source.add_argument("--config", metavar="MODULE:ATTRIBUTE", help="your configuration")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, metavar="N", help="server processes")
    serve.add_argument("--data-path", metavar="DIR", help="where state is kept")
    keep = serve.add_mutually_exclusive_group()
    keep.add_argument("--in-memory", action="store_true", help="keep nothing across restarts")
    keep.add_argument("--database-url", metavar="URL", help="shared SQL database (PostgreSQL)")
    serve.add_argument("--executor", choices=["thread", "process", "dask"])
    serve.add_argument("--dask-address", metavar="ADDR")
    serve.add_argument("--max-workers", type=int, metavar="N", help="concurrent runs")
    serve.add_argument("--no-ui", action="store_true", help="do not serve the web app at /")
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses whose X-Forwarded-* headers are trusted ('*': any)",
    )
    serve.add_argument("--log-level", default="info", choices=LEVELS, help="default: info")
    serve.add_argument(
        "--log-format", default="text", choices=FORMATS, help="text (default) or JSON lines"
    )
    return top


def overrides_from(args: argparse.Namespace) -> dict[str, Any]:
    """Configuration fields the flags set; flags win over the configuration."""
    values: dict[str, Any] = {}
    if args.example:
        # The example keeps its state under --data-path (default ./algomancy-data).
        values["has_persistent_state"] = True
        values["data_path"] = "algomancy-data"
    for flag, field in [
        ("host", "host"),
        ("port", "port"),
        ("workers", "workers"),
        ("data_path", "data_path"),
        ("database_url", "database_url"),
        ("executor", "executor"),
        ("dask_address", "dask_address"),
        ("max_workers", "max_workers"),
        ("forwarded_allow_ips", "forwarded_allow_ips"),
    ]:
        value = getattr(args, flag)
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
    from algomancy_api.launcher import ApiLauncher
    from algomancy_api.loading import load_config

    import_from(os.environ.get(ENV_APP_DIR, os.getcwd()))
    config = load_config(os.environ[ENV_SPEC])
    overrides = json.loads(os.environ.get(ENV_OVERRIDES, "{}"))
    return ApiLauncher.build(config.replace(**overrides))


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from algomancy_api.loading import ConfigLoadError, load_config

    spec = EXAMPLE if args.example else args.config
    overrides = overrides_from(args)
    app_dir = os.getcwd()
    import_from(app_dir)
    try:
        # Validate once here, so that a mistake is one clear line, not a worker crash.
        config = load_config(spec).replace(**overrides)
    except (ConfigLoadError, ValueError) as exc:
        print(f"algomancy-api: {exc}", file=sys.stderr)
        return 2
    os.environ[ENV_SPEC] = spec
    os.environ[ENV_OVERRIDES] = json.dumps(overrides)
    os.environ[ENV_APP_DIR] = app_dir
    log_config = logging_config(args.log_level, args.log_format)
    logging.config.dictConfig(log_config)
    where = (
        f"http://{config.host}:{config.port}{config.prefix}"
        if config.port
        else f"{config.host} on a free port (uvicorn names it), under {config.prefix}"
    )
    logging.getLogger("algomancy.cli").info("serving %s on %s (docs at /docs)", config.title, where)
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
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":
    sys.exit(main())
