"""`algomancy-api study create/list/show/stop`: optimisation studies (docs/studies.md)
over the HTTP API, through the client."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from algomancy_api.cli.app import app
from algomancy_api.cli.experiments import axis
from algomancy_api.cli.output import connected, emit, find_named, show_counted, table
from algomancy_api.cli.params import ParamValueError, parse_params

if TYPE_CHECKING:
    from algomancy_api.client import AlgomancyClient
    from algomancy_api.client.studies import Study

HEADER = ("id", "name", "status", "sampler", "budgeted", "complete", "failed", "warm", "best")


@app.group("study")
def study() -> None:
    """Create, list, show and stop optimisation studies."""


def rows(found: Sequence[Study]) -> list[tuple[Any, ...]]:
    out = []
    for s in found:
        counts = [s.counts.get(k, 0) for k in ("budgeted", "complete", "failed", "warm")]
        best = None if s.best is None else (s.best.get("values") or [None])[0]
        if s.pareto is not None:
            best = f"{len(s.pareto)} on the front"
        out.append((s.id, s.name, s.status, s.sampler, *counts, best))
    return out


def dimension(spec: str, client: AlgomancyClient, algo_name: str, dataset: str) -> dict[str, Any]:
    """`NAME`, `NAME=LOW:HIGH` or `NAME=V1,V2,...` (choices); `data.NAME` for a data
    parameter."""
    found = axis("--space", spec, client.parameters(algo_name), client.data_parameters(dataset))
    if "values" in found:
        found["choices"] = found.pop("values")
    return found


def constraint(spec: str) -> dict[str, Any]:
    """`KPI<=X`, `KPI>=X` or `KPI` (its threshold)."""
    for sign, side in (("<=", "max"), (">=", "min")):
        kpi, found, value = spec.partition(sign)
        if found:
            try:
                return {"kpi": kpi.strip(), side: float(value)}
            except ValueError as exc:
                raise ParamValueError(f"--constraint {spec[:200]}: {exc}") from exc
    return {"kpi": spec.strip()}


def find(client: AlgomancyClient, name_or_id: str) -> Study:
    return find_named(client.studies(), name_or_id, "study")


@study.command("create")
@click.argument("name")
@click.option("--algorithm", "algo_name", required=True, help="The algorithm's name.")
@click.option("--dataset", "dataset_key", default="Master data", show_default=True)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A base value.")
@click.option(
    "--objective",
    "objectives",
    multiple=True,
    required=True,
    metavar="KPI[:min|max]",
    help="A KPI to optimise (direction: its better_when unless given).",
)
@click.option(
    "--space",
    multiple=True,
    metavar="NAME[=LOW:HIGH|=V1,V2,...]",
    help="A parameter to search (default: every one with bounds or choices).",
)
@click.option("--constraint", "constraints", multiple=True, metavar="KPI<=X|KPI>=X|KPI")
@click.option(
    "--sampler",
    type=click.Choice(["tpe", "nsga2", "random", "qmc", "gp"]),
    default="tpe",
    show_default=True,
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--n-trials", type=int, help="Trials to run (warm-start scenarios not counted).")
@click.option("--timeout", "timeout_s", type=float, help="Seconds after which no trial starts.")
@click.option("--parallel", type=int, default=1, show_default=True, help="Trials in flight.")
@click.option(
    "--pruner",
    type=click.Choice(["none", "median", "successive_halving"]),
    default="none",
    show_default=True,
    help="Stop trials whose intermediate values are not promising (one objective).",
)
@click.option(
    "--warm-start-session",
    is_flag=True,
    help="Tell the session's complete scenarios of the algorithm as trials first.",
)
@click.pass_context
def study_create(
    ctx: click.Context,
    name: str,
    algo_name: str,
    dataset_key: str,
    params: tuple[str, ...],
    objectives: tuple[str, ...],
    space: tuple[str, ...],
    constraints: tuple[str, ...],
    sampler: str,
    seed: int,
    n_trials: int | None,
    timeout_s: float | None,
    parallel: int,
    pruner: str,
    warm_start_session: bool,
) -> None:
    """Create study NAME; the server's driver runs its trials as scenarios."""
    if n_trials is None and timeout_s is None:
        raise click.UsageError("give --n-trials, --timeout or both")
    wanted = []
    for objective in objectives:
        kpi, _, direction = objective.partition(":")
        if direction not in ("", "min", "max"):
            raise click.UsageError(f"--objective {objective}: the direction is min or max")
        named = {"min": "minimize", "max": "maximize"}.get(direction)
        wanted.append({"kpi": kpi, **({"direction": named} if named else {})})
    with connected(ctx) as client:
        made = client.create_study(
            name,
            algo_name,
            dataset_key,
            wanted,
            space=[dimension(s, client, algo_name, dataset_key) for s in space] or None,
            constraints=[constraint(c) for c in constraints],
            sampler=sampler,
            seed=seed,
            n_trials=n_trials,
            timeout_s=timeout_s,
            parallel=parallel,
            pruner=pruner,
            warm_start={"scenarios": "session"} if warm_start_session else None,
            algo_params=parse_params(params, client.parameters(algo_name)) or None,
        )
    emit(ctx, made.model_dump(), rows([made]), HEADER)


@study.command("list")
@click.pass_context
def study_list(ctx: click.Context) -> None:
    """The session's studies."""
    with connected(ctx) as client:
        found = client.studies()
    emit(ctx, [s.model_dump() for s in found], rows(found), HEADER)


@study.command("show")
@click.argument("name_or_id")
@click.pass_context
def study_show(ctx: click.Context, name_or_id: str) -> None:
    """Status, counts, and the best trial or the Pareto set of one study."""
    with connected(ctx) as client:
        found = find(client, name_or_id)
    if show_counted(ctx, found, rows([found])[0], HEADER):
        return
    chosen = [found.best] if found.best is not None else list(found.pareto or [])
    if chosen:
        kpis = [o["kpi"] for o in found.objectives]
        keys = [d["key"] for d in found.space]
        body = [
            (t["number"], *(t["params"].get(k) for k in keys), *(t["values"] or [])) for t in chosen
        ]
        click.echo("\n" + table(("trial", *keys, *kpis), body))


@study.command("stop")
@click.argument("name_or_id")
@click.pass_context
def study_stop(ctx: click.Context, name_or_id: str) -> None:
    """Ask no more trials and cancel those in flight."""
    with connected(ctx) as client:
        stopped = client.stop_study(find(client, name_or_id).id)
    emit(ctx, stopped.model_dump(), rows([stopped]), HEADER)
