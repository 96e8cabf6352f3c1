"""Optuna chooses a study's points: ask-and-tell over an in-memory Optuna study that
is rebuilt from our own tables each time a point is asked.

Why not an Optuna storage (RDB, journal): the study's trials are rows of the store
(`study_trials`), written by the one driver holding the study's lease, and that is the
only persistent state. A second copy in an Optuna storage would be a second source of
truth to keep in step, and Optuna's RDB storage in the store's SQLite file or PostgreSQL
schema is where "database is locked" and "trial has already finished" come from when
several processes write. So Optuna's storage is `InMemoryStorage`, built by whichever
process drives the study: every trial is replayed with `study.add_trial(create_trial(...))`
(complete ones with their values and constraints, failed ones as FAIL, running ones as
RUNNING so the sampler does not ask their point again), the sampler's study-level state
(e.g. a QMC sequence's position) is restored from the study record, then one point is
asked. A driver that takes over rebuilds the same study from the same rows.

Optuna is imported here only, when a study is created or driven: never at server start.
"""

from __future__ import annotations

import importlib.util
import logging
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import InvalidInputError
from algomancy_core.studies.book import T_COMPLETE, T_PRUNED, T_RUNNING, TrialRecord

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution

SAMPLERS = ("tpe", "nsga2", "random", "qmc", "gp")
#: `none`: trials run to their end; `median`: Optuna's MedianPruner (a trial whose
#: latest intermediate value is worse than the median of the finished trials' at that
#: step stops); `successive_halving`: Optuna's SuccessiveHalvingPruner.
PRUNERS = ("none", "median", "successive_halving")


class _QuietRebuilds(logging.Filter):
    """Drops Optuna's "A new study created in memory" line: logged at every rebuild."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("A new study created in memory")


_QUIET = _QuietRebuilds()


class SamplerUnavailableError(InvalidInputError):
    """The sampler needs a package this server lacks (the GP sampler needs PyTorch)."""


def check_sampler(name: str) -> None:
    if name not in SAMPLERS:
        raise InvalidInputError(f"sampler must be one of {', '.join(SAMPLERS)}, got {name!r}")
    if name == "gp" and importlib.util.find_spec("torch") is None:
        raise SamplerUnavailableError(
            "sampler 'gp': Optuna's GP sampler needs PyTorch, which is not installed on "
            "this server; use tpe (single objective) or nsga2 (several)"
        )


def distributions(space: list[Mapping[str, Any]]) -> dict[str, BaseDistribution]:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, BaseDistribution] = {}
    for d in space:
        if d["type"] == "categorical":
            out[d["key"]] = CategoricalDistribution(d["choices"])
        elif d["type"] == "int":
            out[d["key"]] = IntDistribution(
                int(d["low"]), int(d["high"]), log=d["log"], step=d["step"] or 1
            )
        else:
            out[d["key"]] = FloatDistribution(d["low"], d["high"], log=d["log"], step=d["step"])
    return out


def outside(space: list[Mapping[str, Any]], params: Mapping[str, Any]) -> str | None:
    """Why `params` is not a point of the space (a key missing or unknown, a value out
    of its range or choices), or None when it is one."""
    dists = distributions(space)
    unknown = sorted(set(params) - set(dists))
    if unknown:
        return f"{', '.join(unknown)} not in the space"
    for key, dist in dists.items():
        if key not in params:
            return f"no value for {key}"
        value = params[key]
        try:
            inside = dist._contains(dist.to_internal_repr(value))
        except (ValueError, TypeError):
            inside = False
        if not inside:
            return f"{key}={value!r} is outside its range or choices"
    return None


def _sampler(spec: Mapping[str, Any], number: int) -> optuna.samplers.BaseSampler:
    """The sampler, seeded for the trial it asks: a sampler rebuilt for each ask with
    one seed would draw the same random point each time."""
    import optuna

    name, seed = spec["sampler"], int(spec.get("seed") or 0)
    draw = (seed * 1_000_003 + number) % 2**32
    if name == "random":
        return optuna.samplers.RandomSampler(seed=draw)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=draw)
    if name == "qmc":  # one scrambled sequence; its position is in the study's state
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.QMCSampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=draw)
    return optuna.samplers.TPESampler(seed=draw, multivariate=True)


def check_pruner(name: str, objectives: int) -> None:
    """`InvalidInputError` for an unknown pruner, or a pruner on a study of several
    objectives (Optuna's pruners judge one intermediate value per step)."""
    if name not in PRUNERS:
        raise InvalidInputError(f"pruner must be one of {', '.join(PRUNERS)}, got {name!r}")
    if name != "none" and objectives > 1:
        raise InvalidInputError(
            f"pruner {name!r}: pruning needs a single objective (a run reports one "
            f"intermediate value per step), this study has {objectives}; use pruner 'none'"
        )


def _pruner(spec: Mapping[str, Any]) -> optuna.pruners.BasePruner:
    import optuna

    name = spec.get("pruner") or "none"
    if name == "median":
        return optuna.pruners.MedianPruner()
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def _constraint_attrs(spec: Mapping[str, Any], values: list[float]) -> dict[str, float]:
    """Optuna's per-trial constraint attributes (`constraints:<key>`, <= 0 feasible)."""
    return {f"constraints:{i}": v for i, v in enumerate(values)} if spec["constraints"] else {}


def rebuild(
    spec: Mapping[str, Any], trials: list[TrialRecord], sampler_state: Mapping[str, Any]
) -> optuna.Study:
    """An in-memory Optuna study holding every trial of `trials`."""
    import optuna
    from optuna.trial import TrialState, create_trial

    logger = logging.getLogger("optuna.storages._in_memory")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)
    number = len(trials)
    study = optuna.create_study(
        storage=optuna.storages.InMemoryStorage(),
        study_name="algomancy",  # named: an unnamed in-memory study is logged
        sampler=_sampler(spec, number),
        pruner=_pruner(spec),
        directions=[o["direction"] for o in spec["objectives"]],
    )
    for key, value in sampler_state.items():
        study._storage.set_study_system_attr(study._study_id, key, value)
    dists = distributions(spec["space"])
    for trial in trials:
        attrs = dict(trial.system_attrs)
        if trial.state == T_COMPLETE and trial.values is not None:
            attrs |= _constraint_attrs(spec, trial.constraints or [])
            state, values = TrialState.COMPLETE, trial.values
        elif trial.state == T_RUNNING:
            state, values = TrialState.RUNNING, None
        elif trial.state == T_PRUNED:
            state, values = TrialState.PRUNED, None
        else:
            state, values = TrialState.FAIL, None
        params = {k: v for k, v in trial.params.items() if k in dists}
        study.add_trial(
            create_trial(
                state=state,
                values=values,
                params=params,
                distributions={k: dists[k] for k in params},
                system_attrs=attrs,
                intermediate_values={int(step): value for step, value in trial.intermediate},
            )
        )
    return study


def to_prune(
    spec: Mapping[str, Any], trials: list[TrialRecord], new: Mapping[int, list[tuple[int, float]]]
) -> dict[int, int]:
    """The running trials the study's pruner stops: `{trial number: step}`. `new`
    holds, by trial number, the intermediate values of running trials not yet in
    their `intermediate`; they are reported (`trial.report`) into the rebuilt study,
    where the finished trials' values are, then each trial's `should_prune()` judges
    its latest one."""
    import optuna

    if (spec.get("pruner") or "none") == "none" or not new:
        return {}
    study = rebuild(spec, trials, {})
    # Replayed in order: the i-th Optuna trial is the i-th of `trials`.
    frozen = dict(zip((t.number for t in trials), study.get_trials(deepcopy=False), strict=True))
    out: dict[int, int] = {}
    for number, reports in new.items():
        if not reports or number not in frozen:
            continue
        trial = optuna.Trial(study, frozen[number]._trial_id)
        for step, value in reports:
            trial.report(value, step)
        if trial.should_prune():
            out[number] = reports[-1][0]
    return out


def ask(
    spec: Mapping[str, Any],
    trials: list[TrialRecord],
    sampler_state: Mapping[str, Any],
    point: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The next point (`point` when given: a listed warm-start point), the trial's
    system attributes and the sampler's study-level state after the ask."""
    study = rebuild(spec, trials, sampler_state)
    if point is not None:
        study.enqueue_trial(dict(point), skip_if_exists=False)
    trial = study.ask(distributions(spec["space"]))
    attrs = study._storage.get_trial_system_attrs(trial._trial_id)
    state = study._storage.get_study_system_attrs(study._study_id)
    return dict(trial.params), dict(attrs), dict(state)
