"""Experiments of one session: plan a design into scenarios, read, cancel and delete
them. The HTTP routes call these; an experiment's results (its frame's rows and the
sensitivity of a KPI) are in `experiments.results`."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import ConflictError, InvalidInputError, NotFoundError
from algomancy_core.experiments.axes import (
    DATA_PREFIX,
    DATASET,
    DATASET_ANALYSED,
    DATASET_VERSION,
    DatasetPins,
    axis_keys,
    expand_datasets,
    resolve_axes,
    with_dataset,
)
from algomancy_core.experiments.book import ExperimentRecord, missing
from algomancy_core.experiments.designs import (
    DESIGN_KINDS,
    Axis,
    count_points,
    excluded,
    points,
    repeated,
)
from algomancy_core.experiments.progress import counts, state
from algomancy_core.experiments.queueing import add_queued
from algomancy_core.experiments.template import CheckedValues, PointTemplate
from algomancy_core.names import check_name
from algomancy_core.parameters import ParameterError
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, new_id, utcnow
from algomancy_core.scenario_manager import _data_parameter_values

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager

S = ScenarioStatus
#: The point key of a repetition's seed when no seed parameter is declared: the
#: scenario's own seed (its `lineage`).
RUN_SEED = "run.seed"
#: Designs whose analysis needs every planned point: no exclusions or repetitions.
ANALYSED = ("oat", "morris", "sobol")
#: A design with exclusions is listed before it is counted: at most this many points.
LISTED_AT_MOST = 1_000_000


#: Point keys that are neither algorithm nor data parameters.
_NOT_PARAMETERS = (RUN_SEED, DATASET, DATASET_VERSION)


def _split(point: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A point's algorithm and data parameter values (one pass: it runs per point)."""
    algo: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for key, value in point.items():
        if key.startswith(DATA_PREFIX):
            data[key[len(DATA_PREFIX) :]] = value
        elif key not in _NOT_PARAMETERS:
            algo[key] = value
    return algo, data


def create_experiment(
    manager: ScenarioManager,
    name: str,
    base: Mapping[str, Any],
    design: Mapping[str, Any],
    cap: int,
) -> ExperimentRecord:
    """Plan the design, check every point, then create and queue one scenario per
    point. Nothing is created when a check fails (too many points, a bad value)."""
    name = check_name("name", name, 200)
    kind = design.get("kind")
    if kind not in DESIGN_KINDS:
        raise InvalidInputError(
            f"design kind must be one of {', '.join(DESIGN_KINDS)}, got {kind!r}"
        )
    base = with_dataset(base, design)
    axes = resolve_axes(manager, base, list(design.get("axes") or []))
    if kind in ANALYSED and any(axis.type_name == DATASET for axis in axes):
        raise InvalidInputError(DATASET_ANALYSED.format(kind=kind))
    if kind == "oat":
        for axis in axes:
            if axis.base is None:
                raise InvalidInputError(
                    f"axis {axis.key!r}: a one-at-a-time design needs a base value "
                    "(give it in the base or declare a default)"
                )
    if not axes:
        raise InvalidInputError("a design needs at least one axis")
    planned_points = _plan(manager, base, kind, axes, design, cap)
    planned = len(planned_points)
    store = manager._store
    if name in store.experiments.names(manager.session_id):
        raise ConflictError(f"an experiment named {name!r} exists in this session")
    longest = manager._engine.config.max_name_chars
    if len(f"{name}-{planned}") > longest:
        raise InvalidInputError(
            f"name: too long for its scenarios' tags ({name}-1 ... {name}-{planned}) to "
            f"fit in {longest} characters (max_name_chars)"
        )
    data_base = dict(base.get("data_params") or {})
    algorithm = manager.algorithm(base["algo_name"])
    checked = CheckedValues(algorithm.parameters, base.get("algo_params") or {})
    template = PointTemplate(manager, base["algo_name"])
    pins = DatasetPins(manager, base["dataset_key"])
    # Complete scenarios of the session by run fingerprint: a point that would run
    # the same thing again reuses one instead.
    held = manager.list_scenario_summaries()  # read once: reuse, then the tags
    done: dict[str, str] = {
        s.fingerprint: s.id for s in held if s.status is S.COMPLETE and s.fingerprint is not None
    }
    reuse: dict[int, str] = {}
    records: dict[int, dict[str, Any]] = {}
    for n, point in enumerate(planned_points, start=1):  # check all before creating any
        algo, data = _split(point)
        pinned, data_set = pins.of(point)
        try:
            values = checked.of(algo)
            data_values = _data_parameter_values(pinned.key, data_set, data_base | data)
        except ParameterError as exc:
            raise InvalidInputError(f"point {n} {point}: {exc}") from None
        fields = template.fields(pinned, values, data_values, point.get(RUN_SEED))
        if fields["fingerprint"] is not None and fields["fingerprint"] in done:
            reuse[n] = done[fields["fingerprint"]]
        else:
            records[n] = fields
    creating = list(records)
    tags = {f"{name}-{n}" for n in creating}
    taken = sorted(
        (s.tag for s in held if s.tag in tags),
        key=lambda tag: int(tag.rsplit("-", 1)[1]),
    )
    if taken:
        raise ConflictError(
            f"the scenario tag {taken[0]!r} is taken in this session; an experiment "
            f"named {name!r} tags its scenarios {name}-1 ... {name}-{planned}"
        )
    limit = manager._engine.config.max_scenarios_per_session
    if store.count_scenarios(manager.session_id) + len(creating) > limit:
        raise ConflictError(
            f"the experiment's {len(creating)} new scenarios would exceed the session's "
            f"limit of {limit} (max_scenarios_per_session)"
        )
    experiment_id = new_id()
    tagged = {f"{name}-{n}": r for n, r in records.items()}
    created = iter(add_queued(manager, tagged, batch_of(experiment_id)))
    ids = [reuse[n] if n in reuse else next(created) for n in range(1, planned + 1)]
    experiment = ExperimentRecord(
        id=experiment_id,
        session_id=manager.session_id,
        name=name,
        created_at=utcnow(),
        base=dict(base),
        design=dict(design),
        axes=axis_keys(axes) + _seed_key(design),
        points=planned_points,
        scenario_ids=ids,
        reused=sorted(reuse),
    )
    store.experiments.add(experiment)
    return experiment


def batch_of(experiment_id: str) -> str:
    """The `batch` of an experiment's scenarios: they run in parallel, sharing the
    workers fairly with other batches (`Store.claim_next`)."""
    return f"experiment:{experiment_id}"


def create_point(
    manager: ScenarioManager,
    batch: str,
    name: str,
    base: Mapping[str, Any],
    n: int,
    point: dict[str, Any],
) -> str:
    """Create and queue the scenario of point `n` (tag `{name}-{n}`) in `batch` (an
    experiment's, `batch_of`, or a study's); its id."""
    algo, data = _split(point)
    record = manager.create_scenario(
        f"{name}-{n}",
        point.get(DATASET, base["dataset_key"]),
        base["algo_name"],
        dict(base.get("algo_params") or {}) | algo,
        dict(base.get("data_params") or {}) | data,
        dataset_version=point.get(DATASET_VERSION),
        seed=point.get(RUN_SEED),
        batch=batch,
    )
    if record.status is S.CREATED:
        manager.run_scenario(record.id)
    return record.id


def _seed_key(design: Mapping[str, Any]) -> list[str]:
    """The frame column of the repetitions' seeds, if any."""
    if int(design.get("repetitions") or 1) == 1:
        return []
    return [design.get("seed_parameter") or RUN_SEED]


def _refuse(planned: int, cap: int, before: str = "") -> InvalidInputError:
    return InvalidInputError(
        f"the design has {planned} points{before}, more than max_scenarios {cap}; "
        "narrow it or raise the cap"
    )


def _plan(
    manager: ScenarioManager,
    base: Mapping[str, Any],
    kind: str,
    axes: list[Axis],
    design: Mapping[str, Any],
    cap: int,
) -> list[dict[str, Any]]:
    """The design's points after exclusions and repetitions, the cap checked on
    their count before any is listed when it can be."""
    exclusions = list(design.get("exclude") or [])
    repetitions = int(design.get("repetitions") or 1)
    seed_parameter = design.get("seed_parameter")
    if kind in ANALYSED and (exclusions or repetitions > 1):
        raise InvalidInputError(
            f"a {kind!r} design takes no exclude or repetitions (its analysis needs every "
            "planned point)"
        )
    keys = set(axis_keys(axes))
    for rule in exclusions:
        unknown = sorted(set(rule) - keys)
        if not rule or unknown:
            named = f"not {', '.join(unknown)}" if unknown else "at least one"
            raise InvalidInputError(
                f"exclude {rule}: name axes of the design ({', '.join(sorted(keys))}), {named}"
            )
    if seed_parameter is not None:
        declared = manager.algorithm(base["algo_name"]).parameters.parameter_definitions()
        found = {p.name: p for p in declared}.get(seed_parameter)
        if found is None or found.type_name != "integer" or seed_parameter in keys:
            raise InvalidInputError(
                f"seed_parameter {seed_parameter!r}: not an integer parameter of "
                f"{base['algo_name']} outside the axes"
            )
    counted = count_points(kind, axes, design.get("n"), design.get("levels"))
    if counted * repetitions > cap and not exclusions:
        raise _refuse(counted * repetitions, cap)
    if counted > LISTED_AT_MOST:
        raise _refuse(counted, cap, " before exclusions")
    seed = int(design.get("seed") or 0)
    listed = points(kind, axes, n=design.get("n"), seed=seed, levels=design.get("levels"))
    listed = excluded(expand_datasets(listed), exclusions)
    if repetitions > 1:
        listed = repeated(listed, repetitions, seed, seed_parameter or RUN_SEED)
    if len(listed) > cap:
        raise _refuse(len(listed), cap)
    if not listed:
        raise InvalidInputError("the exclusions leave no point")
    return listed


def get_experiment(manager: ScenarioManager, experiment_id: str) -> ExperimentRecord:
    found = manager._store.experiments.get(manager.session_id, experiment_id)
    if found is None:
        raise missing(experiment_id)
    return found


def list_experiments(manager: ScenarioManager) -> list[ExperimentRecord]:
    return manager._store.experiments.list(manager.session_id)


def scenarios_of(manager: ScenarioManager, record: ExperimentRecord) -> list[ScenarioRecord | None]:
    """The experiment's scenarios in point order; None where one was deleted."""
    by_id = _runs(manager, record)
    return [by_id.get(i) for i in record.scenario_ids]


def _runs(manager: ScenarioManager, record: ExperimentRecord) -> dict[str, ScenarioRecord]:
    """The experiment's scenarios by id (those gone left out): only they are read."""
    found = manager._store.get_scenarios(manager.session_id, record.scenario_ids, summaries=True)
    return {s.id: s for s in found}


def summary(manager: ScenarioManager, record: ExperimentRecord) -> dict[str, Any]:
    # Their statuses alone: 10,000 whole scenarios read were most of a creation's answer.
    statuses = manager._store.scenario_statuses(manager.session_id, record.scenario_ids)
    counted = counts(record, statuses)
    return {
        "id": record.id,
        "name": record.name,
        "created_at": record.created_at,
        "status": state(record, counted),
        "counts": counted,
        "base": record.base,
        "design": record.design,
        "axes": record.axes,
        "scenario_ids": record.scenario_ids,
    }


def cancel(manager: ScenarioManager, record: ExperimentRecord) -> ExperimentRecord:
    """Mark cancelled, then fail its queued scenarios and stop its processing ones.
    Queued ones first: with its points running in parallel, each stopped run frees
    a worker that would otherwise start one of the experiment's next."""
    manager._store.experiments.cancel(manager.session_id, record.id)
    runs = [r for r in scenarios_of(manager, record) if r is not None and r.status.is_active]
    runs.sort(key=lambda r: r.status is not S.QUEUED)
    for run in runs:
        with contextlib.suppress(ConflictError, NotFoundError):
            manager.cancel_scenario(run.id)
    return get_experiment(manager, record.id)


def delete(manager: ScenarioManager, record: ExperimentRecord, *, scenarios: bool) -> None:
    manager._store.experiments.delete(manager.session_id, record.id)
    if scenarios:  # only those it created: a reused one belongs to another run
        reused = {record.scenario_ids[n - 1] for n in record.reused}
        for scenario_id in [i for i in record.scenario_ids if i not in reused]:
            with contextlib.suppress(NotFoundError):
                manager.delete_scenario(scenario_id)
