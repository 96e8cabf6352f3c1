"""`algomancy-api`: `serve`, and commands that drive a server over its HTTP API
(through `algomancy_api.client`, never the core directly)."""

from __future__ import annotations

from collections.abc import Sequence

import click

from algomancy_api.cli.app import Globals, accept_global_options_after_commands, app
from algomancy_api.cli.init import init
from algomancy_api.cli.serve import (
    EXAMPLE,
    ServeOptions,
    app_from_environment,
    overrides_from,
    parse_serve,
    run_serve,
    serve,
)
from algomancy_api.envnames import ENV_APP_DIR, ENV_OVERRIDES, ENV_SPEC

app.add_command(serve)
app.add_command(init)

# The client commands register themselves on `app`.
import algomancy_api.cli.commands  # noqa: E402
import algomancy_api.cli.experiments  # noqa: E402
import algomancy_api.cli.studies  # noqa: E402, F401

# `--url`, `--api-key`, `--session` and `--json` also after the command (not `serve`'s
# nor `init`'s).
accept_global_options_after_commands(app, skip=frozenset({"serve", "init"}))

__all__ = [
    "ENV_APP_DIR",
    "ENV_OVERRIDES",
    "ENV_SPEC",
    "EXAMPLE",
    "Globals",
    "ServeOptions",
    "app",
    "app_from_environment",
    "main",
    "overrides_from",
    "parse_serve",
    "run_serve",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit code. Usage errors exit (SystemExit 2)."""
    try:
        result = app.main(
            args=list(argv) if argv is not None else None,
            prog_name="algomancy-api",
            standalone_mode=False,
        )
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from exc
    except click.Abort as exc:
        raise SystemExit(1) from exc
    return result if isinstance(result, int) else 0
