"""The `algomancy-api` command group and its global options."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

DEFAULT_URL = "http://127.0.0.1:8051"

EPILOG = """\b
Exit codes:
  0  success
  1  the server refused the request, or a run did not complete
  2  bad usage, or a bad parameter value
  3  the server could not be reached

\b
Shell completion (bash; zsh and fish likewise):
  eval "$(_ALGOMANCY_API_COMPLETE=bash_source algomancy-api)"
"""


@dataclasses.dataclass(frozen=True)
class Globals:
    """The options before the command: where the server is and how to print."""

    url: str = DEFAULT_URL
    api_key: str | None = None
    session: str = "main"
    json: bool = False


@click.group(name="algomancy-api", epilog=EPILOG, context_settings={"max_content_width": 100})
@click.option(
    "--url",
    envvar="ALGOMANCY_URL",
    default=DEFAULT_URL,
    show_default=True,
    show_envvar=True,
    help="The server's base URL.",
)
@click.option("--api-key", envvar="ALGOMANCY_API_KEY", show_envvar=True, help="Bearer API key.")
@click.option(
    "--session",
    envvar="ALGOMANCY_SESSION",
    default="main",
    show_default=True,
    show_envvar=True,
    help="Session (UUID or display name).",
)
@click.option("--json", "json_output", is_flag=True, help="Print JSON instead of tables.")
@click.pass_context
def app(ctx: click.Context, url: str, api_key: str | None, session: str, json_output: bool) -> None:
    """Serve Algomancy, or drive a running server over its HTTP API."""
    ctx.obj = Globals(url=url, api_key=api_key, session=session, json=json_output)


def _override(field: str) -> Any:
    """An option callback that puts a value given after the command into `Globals`."""

    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return  # not given here: the value before the command (or its default) stands
        current = ctx.find_object(Globals) or Globals()
        ctx.obj = dataclasses.replace(current, **{field: value})

    return callback


def after_command_options() -> list[click.Option]:
    """The global options again, for a command's own parameters (no defaults, no
    environment variables: only a value given after the command overrides)."""
    options = []
    for param in app.params:
        assert isinstance(param, click.Option) and param.name is not None
        field = "json" if param.name == "json_output" else param.name
        options.append(
            click.Option(
                param.opts,
                is_flag=param.is_flag,
                default=None,
                expose_value=False,
                callback=_override(field),
                help=f"{param.help} (Also before the command.)",
            )
        )
    return options


def accept_global_options_after_commands(group: click.Group, skip: frozenset[str]) -> None:
    """Let every command under `group` (except those named in `skip`) take the
    global options after its name too: `algomancy-api scenario list --json`."""
    for name, command in group.commands.items():
        if name in skip:
            continue
        taken = {opt for param in command.params for opt in param.opts}
        command.params.extend(o for o in after_command_options() if not set(o.opts) & taken)
        if isinstance(command, click.Group):
            accept_global_options_after_commands(command, skip)
