"""What every command of the command line shares: a client for the global options
(`connected`, server errors turned into exit codes) and its output, a plain table by
default and JSON with the global `--json` (`emit`)."""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import click

from algomancy_api.cli.app import Globals

if TYPE_CHECKING:  # imported when a command runs, so that `--help` stays quick
    from algomancy_api.client import AlgomancyClient

#: Exit codes (see the group's epilog).
REFUSED, UNREACHABLE = 1, 3


@contextlib.contextmanager
def connected(ctx: click.Context) -> Iterator[AlgomancyClient]:
    """A client for the global options; server errors become exit codes."""
    import httpx

    from algomancy_api.client import AlgomancyClient, AlgomancyError

    options: Globals = ctx.find_object(Globals) or Globals()
    client = AlgomancyClient(options.url, session=options.session, api_key=options.api_key)
    try:
        yield client
    except AlgomancyError as exc:
        said = f"algomancy-api: the server answered {exc.status}: {exc.detail}"
        if exc.request_id:
            said += f" (request id {exc.request_id})"
        click.echo(said, err=True)
        ctx.exit(REFUSED)
    except httpx.TransportError as exc:
        click.echo(f"algomancy-api: cannot reach {options.url}: {exc}", err=True)
        ctx.exit(UNREACHABLE)
    finally:
        client.close()


def wants_json(ctx: click.Context) -> bool:
    options = ctx.find_object(Globals)
    return bool(options and options.json)


def emitted_json(ctx: click.Context, payload: Any) -> bool:
    """With `--json`, `payload` printed as JSON and True; else nothing printed, False."""
    if wants_json(ctx):
        click.echo(json.dumps(payload, indent=2, default=str))
        return True
    return False


def emit(
    ctx: click.Context, payload: Any, rows: Sequence[Sequence[Any]], header: Sequence[str]
) -> None:
    """`payload` as JSON with `--json`, else `rows` as an aligned table."""
    if not emitted_json(ctx, payload):
        click.echo(table(header, rows))


class Tracked(Protocol):
    """What `find_named` and `show_counted` read of an experiment or a study."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def counts(self) -> dict[str, int]: ...
    def model_dump(self) -> dict[str, Any]: ...


T = TypeVar("T", bound=Tracked)


def find_named(found: Iterable[T], name_or_id: str, noun: str) -> T:
    """The one of `found` whose id or name is `name_or_id`, else the server's 404."""
    from algomancy_api.client import AlgomancyError

    for item in found:
        if name_or_id in (item.id, item.name):
            return item
    raise AlgomancyError(404, f"no {noun} with id or name {name_or_id!r}")


def show_counted(
    ctx: click.Context, found: Tracked, row: Sequence[Any], header: Sequence[str]
) -> bool:
    """One experiment or study: as JSON with `--json` (True: nothing more to print),
    else its row and its counts as tables (False: the caller may add more)."""
    if emitted_json(ctx, found.model_dump()):
        return True
    click.echo(table(header, [row]))
    click.echo("\n" + table(("count", "value"), sorted(found.counts.items())))
    return False


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain, aligned text table (numeric columns right-aligned)."""
    cells = [[cell_text(value) for value in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [
        bool(rows)
        and all(
            (isinstance(row[i], int | float) and not isinstance(row[i], bool)) or row[i] is None
            for row in rows
        )
        for i in range(len(header))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(list(header)), line(["-" * w for w in widths])]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)
