"""`algomancy-api experiment create/list/show/cancel/resume/results`: parameter sweeps
(docs/experiments.md) over the HTTP API, through the client."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from algomancy_api.cli.app import app
from algomancy_api.cli.output import connected, emit, find_named, show_counted
from algomancy_api.cli.params import ParamValueError, parse_params, parse_value

if TYPE_CHECKING:
    from algomancy_api.client import AlgomancyClient
    from algomancy_api.client.models import Experiment, ParameterDescriptor

DATA = "data."
HEADER = ("id", "name", "status", "planned", "created", "reused", "complete", "failed")


@app.group("experiment")
def experiment() -> None:
    """Create, list, show, cancel, resume experiments and read their results."""


def rows(found: Sequence[Experiment]) -> list[tuple[Any, ...]]:
    return [
        (
            e.id,
            e.name,
            e.status,
            *(e.counts.get(k, 0) for k in ("planned", "created", "reused", "complete", "failed")),
        )
        for e in found
    ]


def axis(
    option: str,
    spec: str,
    algorithm: Sequence[ParameterDescriptor],
    data: Sequence[ParameterDescriptor],
) -> dict[str, Any]:
    """`NAME=v1,v2,...` (values), `NAME=LOW:HIGH` (a range) or `NAME` (the
    descriptor's range); `data.NAME` for a data parameter."""
    name, sep, text = spec.partition("=")
    on = "data" if name.startswith(DATA) else "algorithm"
    name = name.removeprefix(DATA)
    by_name = {d.name: d for d in (data if on == "data" else algorithm)}
    if name not in by_name:
        known = ", ".join(by_name) or "none"
        raise ParamValueError(f"{option} {name[:200]}: no such parameter (parameters: {known})")
    out: dict[str, Any] = {"name": name, "on": on}
    if not sep:
        return out
    low, colon, high = text.partition(":")
    if colon:
        try:
            out["min"], out["max"] = float(low), float(high)
        except ValueError as exc:
            raise ParamValueError(f"{option} {name}: expected LOW:HIGH numbers ({exc})") from exc
        return out
    out["values"] = [parse_value(by_name[name], v.strip(), option) for v in text.split(",")]
    return out


def find(client: AlgomancyClient, name_or_id: str) -> Experiment:
    return find_named(client.experiments(), name_or_id, "experiment")


def emit_changed(
    ctx: click.Context, name_or_id: str, change: Callable[[AlgomancyClient, str], Experiment]
) -> None:
    """`change` (cancel, resume) applied to the experiment named, and its new state."""
    with connected(ctx) as client:
        changed = change(client, find(client, name_or_id).id)
    emit(ctx, changed.model_dump(), rows([changed]), HEADER)


@experiment.command("create")
@click.argument("name")
@click.option("--algorithm", "algo_name", required=True, help="The algorithm's name.")
@click.option("--dataset", "dataset_key", default="Master data", show_default=True)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A base value.")
@click.option("--data-param", "data_params", multiple=True, metavar="NAME=VALUE")
@click.option("--grid", multiple=True, metavar="NAME=V1,V2,...", help="An axis with values.")
@click.option(
    "--random", "random_", multiple=True, metavar="NAME[=LOW:HIGH]", help="A sampled axis."
)
@click.option("--lhs", multiple=True, metavar="NAME[=LOW:HIGH]", help="A Latin hypercube axis.")
@click.option("--oat", multiple=True, metavar="NAME[=LOW:HIGH]", help="A one-at-a-time axis.")
@click.option("--morris", multiple=True, metavar="NAME[=LOW:HIGH]", help="A Morris axis.")
@click.option("--sobol", multiple=True, metavar="NAME[=LOW:HIGH]", help="A Sobol axis.")
@click.option(
    "--n",
    "n",
    type=int,
    help="Points of a random or lhs design, trajectories of a morris one, base points "
    "(a power of 2) of a sobol one.",
)
@click.option("--levels", type=int, help="Grid levels of a morris design (even; default 4).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-scenarios", type=int, help="Refuse a design with more points.")
@click.pass_context
def experiment_create(
    ctx: click.Context,
    name: str,
    algo_name: str,
    dataset_key: str,
    params: tuple[str, ...],
    data_params: tuple[str, ...],
    grid: tuple[str, ...],
    random_: tuple[str, ...],
    lhs: tuple[str, ...],
    oat: tuple[str, ...],
    morris: tuple[str, ...],
    sobol: tuple[str, ...],
    n: int | None,
    levels: int | None,
    seed: int,
    max_scenarios: int | None,
) -> None:
    """Create experiment NAME and queue its scenarios. The design is `oat` with
    --oat axes, `lhs` with --lhs, `morris` with --morris, `sobol` with --sobol,
    `random` with --random (then --grid axes are sampled from their values), else
    the full `grid`."""
    sampling = {"random": random_, "lhs": lhs, "oat": oat, "morris": morris, "sobol": sobol}
    sampled = [kind for kind, given in sampling.items() if given]
    if len(sampled) > 1:
        raise click.UsageError(
            f"use one of {', '.join('--' + k for k in sampling)}, not "
            f"{' and '.join('--' + k for k in sampled)}"
        )
    kind = sampled[0] if sampled else "grid"
    if not (grid or sampled):
        raise click.UsageError(
            "give at least one axis (--grid, --random, --lhs, --oat, --morris or --sobol)"
        )
    with connected(ctx) as client:
        described = client.parameters(algo_name)
        data_described = client.data_parameters(dataset_key)
        axes = [
            axis(f"--{option}", spec, described, data_described)
            for option, specs in (("grid", grid), *sampling.items())
            for spec in specs
        ]
        made = client.create_experiment(
            name,
            algo_name,
            dataset_key,
            kind,
            axes,
            algo_params=parse_params(params, described),
            data_params=parse_params(data_params, data_described, "--data-param"),
            n=n,
            seed=seed,
            max_scenarios=max_scenarios,
            design=None if levels is None else {"levels": levels},
        )
    emit(ctx, made.model_dump(), rows([made]), HEADER)


@experiment.command("list")
@click.pass_context
def experiment_list(ctx: click.Context) -> None:
    """The session's experiments."""
    with connected(ctx) as client:
        found = client.experiments()
    emit(ctx, [e.model_dump() for e in found], rows(found), HEADER)


@experiment.command("show")
@click.argument("name_or_id")
@click.pass_context
def experiment_show(ctx: click.Context, name_or_id: str) -> None:
    """Status and counts of one experiment."""
    with connected(ctx) as client:
        found = find(client, name_or_id)
    show_counted(ctx, found, rows([found])[0], HEADER)


@experiment.command("cancel")
@click.argument("name_or_id")
@click.pass_context
def experiment_cancel(ctx: click.Context, name_or_id: str) -> None:
    """Fail its queued points and stop the one processing."""
    emit_changed(ctx, name_or_id, lambda client, id: client.cancel_experiment(id))


@experiment.command("resume")
@click.argument("name_or_id")
@click.pass_context
def experiment_resume(ctx: click.Context, name_or_id: str) -> None:
    """Queue again its points not complete (failed, cancelled, never run); nothing
    complete runs again."""
    emit_changed(ctx, name_or_id, lambda client, id: client.resume_experiment(id))


@experiment.command("results")
@click.argument("name_or_id")
@click.pass_context
def experiment_results(ctx: click.Context, name_or_id: str) -> None:
    """One row per point: status, the varied parameters and the KPIs."""
    with connected(ctx) as client:
        frame = client.experiment_frame(find(client, name_or_id).id, limit=100_000)
    columns = [c for c in frame.columns if c != "scenario_id"]
    emit(ctx, frame.rows, [[row.get(c) for c in columns] for row in frame.rows], columns)
