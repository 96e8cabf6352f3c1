"""The commands that drive a running server over its HTTP API, through
`algomancy_api.client` (never the core directly).

Output is a plain table by default and JSON with the global `--json`
(`cli.output`). Exit codes are listed in the group's help (`algomancy-api --help`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from algomancy_api.cli.app import app
from algomancy_api.cli.output import REFUSED, connected, emit, emitted_json, table, wants_json
from algomancy_api.cli.params import ParamValueError, parse_params

if TYPE_CHECKING:  # imported when a command runs, so that `--help` stays quick
    from algomancy_api.client.models import Scenario, SessionEvent


# -- sessions -----------------------------------------------------------------
@app.group("sessions", invoke_without_command=True)
@click.pass_context
def sessions(ctx: click.Context) -> None:
    """List the sessions (or `sessions create NAME`)."""
    if ctx.invoked_subcommand is None:
        with connected(ctx) as client:
            listed = client.sessions()
        rows = [
            (s.id, s.display_name, "*" if s.id == listed.default else "") for s in listed.sessions
        ]
        emit(ctx, listed.model_dump(), rows, ("id", "name", "default"))


@sessions.command("create")
@click.argument("name")
@click.pass_context
def sessions_create(ctx: click.Context, name: str) -> None:
    """Create a session named NAME."""
    with connected(ctx) as client:
        created = client.create_session(name)
    emit(ctx, created.model_dump(), [(created.id, created.display_name)], ("id", "name"))


# -- data ---------------------------------------------------------------------
@app.command("upload")
@click.argument("dataset")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def upload(ctx: click.Context, dataset: str, files: tuple[str, ...]) -> None:
    """Run the ETL over FILES into DATASET. Its messages are printed; a failed ETL
    stores nothing and exits 1."""
    with connected(ctx) as client:
        result = client.upload(dataset, *(Path(f) for f in files))
    if not emitted_json(ctx, result.model_dump()):
        for message in result.messages:
            click.echo(str(message), err=not result.success)
        if result.success and result.dataset_version is not None:
            verdict = f"stored as version {result.dataset_version}"
        else:
            verdict = "stored" if result.success else "ETL failed; nothing stored"
        click.echo(f"{result.dataset_name}: {verdict}")
    if not result.success:
        ctx.exit(REFUSED)


@app.group("datasets", invoke_without_command=True)
@click.pass_context
def datasets(ctx: click.Context) -> None:
    """The session's datasets and their tables (or `datasets versions NAME`)."""
    if ctx.invoked_subcommand is not None:
        return
    with connected(ctx) as client:
        keys = client.datasets()
        tables = {key: client.dataset_tables(key) for key in keys}
    payload = {key: [t.model_dump() for t in tables[key]] for key in keys}
    rows = [(key, t.name, t.rows, len(t.columns)) for key in keys for t in tables[key]]
    emit(ctx, payload, rows, ("dataset", "table", "rows", "columns"))


@datasets.command("versions")
@click.argument("name")
@click.pass_context
def datasets_versions(ctx: click.Context, name: str) -> None:
    """The versions of dataset NAME, newest first, with the scenarios pinned to each."""
    with connected(ctx) as client:
        found = client.dataset_versions(name)
    rows = [
        (
            v.version,
            v.digest[:12],
            v.created_at,
            v.creator or "",
            v.messages,
            len(v.scenario_ids),
            "*" if v.latest else "",
        )
        for v in found
    ]
    header = ("version", "digest", "created", "creator", "messages", "scenarios", "latest")
    emit(ctx, [v.model_dump() for v in found], rows, header)


# -- scenarios ----------------------------------------------------------------
@app.group("scenario")
def scenario() -> None:
    """Create, run, list, show and cancel scenarios."""


SCENARIO_HEADER = ("id", "tag", "algorithm", "dataset", "status", "progress %")


def scenario_rows(found: Sequence[Scenario]) -> list[tuple[Any, ...]]:
    return [
        (s.id, s.tag, s.algorithm.name, s.input_data_id, str(s.status), round(s.progress * 100))
        for s in found
    ]


@scenario.command("create")
@click.argument("tag")
@click.option("--dataset", "dataset_key", required=True, help="The input dataset's key.")
@click.option("--algorithm", "algo_name", required=True, help="The algorithm's name.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter value.")
@click.option(
    "--data-param",
    "data_params",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value of one of the dataset's data parameters.",
)
@click.option(
    "--dataset-version",
    "dataset_version",
    type=click.IntRange(min=1),
    default=None,
    help="The dataset version to pin the scenario to (default: the latest).",
)
@click.pass_context
def scenario_create(
    ctx: click.Context,
    tag: str,
    dataset_key: str,
    algo_name: str,
    params: tuple[str, ...],
    data_params: tuple[str, ...],
    dataset_version: int | None,
) -> None:
    """Create scenario TAG. `--param` values are parsed against the algorithm's
    descriptors, `--data-param` values against the dataset's data parameters; a bad
    one exits 2 and names the parameter."""
    from algomancy_api.client import AlgomancyError

    with connected(ctx) as client:
        values = parse_params(params, client.parameters(algo_name))
        data_values = (
            parse_params(data_params, client.data_parameters(dataset_key), "--data-param")
            if data_params
            else None
        )
        try:
            created = client.create_scenario(
                tag, dataset_key, algo_name, values, data_values, dataset_version=dataset_version
            )
        except AlgomancyError as exc:
            if exc.status == 400:  # the server names the parameter it refused
                raise ParamValueError(str(exc.detail)) from exc
            raise
    emit(ctx, created.model_dump(), scenario_rows([created]), SCENARIO_HEADER)


@scenario.command("run")
@click.argument("tag_or_id")
@click.option("--wait", is_flag=True, help="Follow the run with a progress bar.")
@click.pass_context
def scenario_run(ctx: click.Context, tag_or_id: str, wait: bool) -> None:
    """Run (or re-run) a scenario. With --wait, exit 0 only when it is complete."""
    with connected(ctx) as client:
        started = client.run(client.find_scenario(tag_or_id).id)
        final = client.wait(started.id, progress=not wants_json(ctx)) if wait else started
    emit(ctx, final.model_dump(), scenario_rows([final]), SCENARIO_HEADER)
    if final.error:
        click.echo(f"algomancy-api: {final.tag}: {final.error}", err=True)
    if wait and final.status != "complete":
        ctx.exit(REFUSED)


@scenario.command("list")
@click.pass_context
def scenario_list(ctx: click.Context) -> None:
    """The session's scenarios."""
    with connected(ctx) as client:
        found = client.scenarios()
    emit(ctx, [s.model_dump() for s in found], scenario_rows(found), SCENARIO_HEADER)


@scenario.command("show")
@click.argument("tag_or_id")
@click.pass_context
def scenario_show(ctx: click.Context, tag_or_id: str) -> None:
    """One scenario: status, parameters and KPIs."""
    with connected(ctx) as client:
        found = client.find_scenario(tag_or_id)
    if emitted_json(ctx, found.model_dump()):
        return
    click.echo(table(SCENARIO_HEADER, scenario_rows([found])))
    parameters = [(p.get("name"), p.get("value")) for p in found.algorithm.parameters]
    if parameters:
        click.echo("\n" + table(("parameter", "value"), parameters))
    kpis = [(k.name, k.value, k.unit, k.better_when) for k in found.kpis.values()]
    if kpis:
        click.echo("\n" + table(("kpi", "value", "unit", "better when"), kpis))
    lineage = found.lineage or {}
    version = found.dataset_version if found.dataset_version is not None else "unknown"
    facts = [
        ("dataset version", version),
        ("dataset digest", found.dataset_digest or ""),
        ("algorithm version", (lineage.get("algorithm") or {}).get("version") or ""),
        ("seed", found.seed if found.seed is not None else ""),
        ("executor", lineage.get("executor") or ""),
        ("fingerprint", found.fingerprint or ""),
    ]
    click.echo("\n" + table(("lineage", "value"), facts))
    if found.error:
        click.echo(f"\nerror: {found.error}")


@scenario.command("cancel")
@click.argument("tag_or_id")
@click.pass_context
def scenario_cancel(ctx: click.Context, tag_or_id: str) -> None:
    """Cancel a queued or running scenario."""
    with connected(ctx) as client:
        cancelled = client.cancel(client.find_scenario(tag_or_id).id)
    emit(ctx, cancelled.model_dump(), scenario_rows([cancelled]), SCENARIO_HEADER)


# -- KPIs ---------------------------------------------------------------------
def kpi_table(ctx: click.Context, tags: Sequence[str]) -> None:
    """The KPI comparison frame, all scenarios or those tagged `tags` in order."""
    with connected(ctx) as client:
        frame = client.kpi_frame()
    rows = frame.rows
    if tags:
        by_tag = {row.get("scenario"): row for row in rows}
        missing = [tag for tag in tags if tag not in by_tag]
        if missing:
            raise click.UsageError(f"no scenario tagged {', '.join(missing)}")
        rows = [by_tag[tag] for tag in tags]
    emit(ctx, rows, [[row.get(c) for c in frame.columns] for row in rows], frame.columns)


@app.command("kpis")
@click.pass_context
def kpis(ctx: click.Context) -> None:
    """Every scenario's KPIs, one row per scenario."""
    kpi_table(ctx, ())


@app.command("compare")
@click.argument("tags", nargs=-1, required=True)
@click.option(
    "--baseline",
    metavar="TAG",
    help="Compare against this scenario (tag, id or 'pinned'): deltas and verdicts per KPI.",
)
@click.option("--tolerance", type=float, help="Relative tolerance of 'equal' (default 1e-9).")
@click.option("--diff-only", is_flag=True, help="Add the parameters that differ.")
@click.pass_context
def compare(
    ctx: click.Context,
    tags: tuple[str, ...],
    baseline: str | None,
    tolerance: float | None,
    diff_only: bool,
) -> None:
    """The KPIs of the scenarios TAGS side by side, in the order given."""
    if baseline is None and tolerance is None and not diff_only:
        kpi_table(ctx, tags)
        return
    with connected(ctx) as client:
        frame = client.compare(tags, baseline, tolerance=tolerance, diff_only=diff_only)
    frame = frame.reset_index()
    rows = [
        {key: (None if value != value else value) for key, value in row.items()}  # NaN: null
        for row in frame.to_dict(orient="records")
    ]
    columns = [str(c) for c in frame.columns]
    emit(ctx, rows, [[row.get(c) for c in columns] for row in rows], columns)


def event_line(event: SessionEvent) -> str:
    """One event as a line: its id, its kind, and what it is about."""
    if event.scenario is not None:
        s = event.scenario
        what = f"{s.tag} ({s.status}"
        what += f" {s.progress:.0%})" if s.progress is not None else ")"
        if s.message:
            what += f" {s.message}"
        if s.error:
            what += f" error: {s.error}"
    elif event.dataset is not None:
        what = event.dataset.key
    elif event.session is not None:
        what = event.session.display_name
    else:
        what = event.reason or event.subject or event.session_id
    return f"{event.seq} {event.kind} {what}"


@app.command("watch")
@click.option(
    "--until-idle",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Stop after this many seconds without a change (default: until Ctrl-C).",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    metavar="N",
    help="Stop after N changes (`open` and `reset` not counted).",
)
@click.option(
    "--from",
    "last_event_id",
    metavar="ID",
    help="Replay the changes after event ID first (an id printed before).",
)
@click.pass_context
def watch(
    ctx: click.Context, until_idle: float | None, count: int | None, last_event_id: str | None
) -> None:
    """Print every change in the session as it happens, one line each (JSON lines
    with --json), until Ctrl-C."""
    as_json = wants_json(ctx)
    seen = 0
    with connected(ctx) as client, contextlib.suppress(KeyboardInterrupt):
        for event in client.watch_session(last_event_id=last_event_id, idle_timeout=until_idle):
            if as_json:
                click.echo(json.dumps(event.model_dump(exclude_none=True)))
            else:
                click.echo(event_line(event))
            if event.kind not in ("open", "reset"):
                seen += 1
                if count is not None and seen >= count:
                    return
