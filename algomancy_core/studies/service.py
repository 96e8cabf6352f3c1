"""Studies of one session: create (checked whole before anything is stored, warm
start resolved into trials), read (status, counts, best or Pareto set, trial rows),
stop and delete. The HTTP routes call these; the drivers (`driver.py`) run them."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import ConflictError, InvalidInputError, NotFoundError
from algomancy_core.names import check_name
from algomancy_core.scenario import ScenarioStatus, new_id, utcnow
from algomancy_core.studies import search
from algomancy_core.studies.book import (
    RUNNING,
    T_COMPLETE,
    T_RUNNING,
    WARM,
    StudyRecord,
    TrialRecord,
    missing,
    same_run_as,
)
from algomancy_core.studies.space import (
    evaluate,
    resolve_constraints,
    resolve_objectives,
    resolve_space,
)
from algomancy_core.studies.trials import run_values

if TYPE_CHECKING:
    from algomancy_core.scenario import ScenarioRecord
    from algomancy_core.scenario_manager import ScenarioManager

S = ScenarioStatus


def create_study(
    manager: ScenarioManager, request: Mapping[str, Any], cap: int | None = None
) -> StudyRecord:
    """Check the whole request, resolve its warm start into trials, store the study;
    a driver picks it up. Nothing is stored when a check fails. `cap`: at most this
    many trials (`max_experiment_scenarios`), also for a study with only a time budget."""
    name = check_name("name", request["name"], 200)
    base = dict(request["base"])
    manager.algorithm(base["algo_name"])  # NotFoundError names it
    manager.dataset_version(base["dataset_key"])
    sampler = request.get("sampler") or "tpe"
    search.check_sampler(sampler)
    n_trials, timeout_s = request.get("n_trials"), request.get("timeout_s")
    if n_trials is None and timeout_s is None:
        raise InvalidInputError("n_trials, timeout_s: give a trial budget, a time budget or both")
    if cap is not None and n_trials is not None and n_trials > cap:
        raise InvalidInputError(
            f"n_trials: {n_trials} is more than max_experiment_scenarios {cap}; "
            "lower it or raise the cap"
        )
    spec: dict[str, Any] = {
        "base": base,
        "space": resolve_space(manager, base, request.get("space")),
        "objectives": resolve_objectives(manager, list(request.get("objectives") or [])),
        "constraints": resolve_constraints(manager, list(request.get("constraints") or [])),
        "sampler": sampler,
        "seed": int(request.get("seed") or 0),
        "n_trials": n_trials,
        "timeout_s": timeout_s,
        "parallel": int(request.get("parallel") or 1),
        "max_trials": cap,
        "pruner": request.get("pruner") or "none",
    }
    search.check_pruner(spec["pruner"], len(spec["objectives"]))
    run_values(manager, base, {})  # the base's own values are valid
    if any(e.name == name for e in manager._store.studies.list(manager.session_id)):
        raise ConflictError(f"a study named {name!r} exists in this session")
    mine = re.compile(re.escape(name) + r"-\d+")
    taken = [s.tag for s in manager.list_scenario_summaries() if mine.fullmatch(s.tag)]
    if taken:
        raise ConflictError(
            f"the scenario tag {taken[0]!r} is taken in this session; a study named "
            f"{name!r} tags its trials' scenarios {name}-0, {name}-1, ..."
        )
    study_id = new_id()
    warm = dict(request.get("warm_start") or {})
    spec["points"] = _points(manager, spec, warm.get("points"))
    warm_trials = _warm_trials(manager, study_id, spec, warm)
    record = StudyRecord(study_id, manager.session_id, name, utcnow(), spec=spec)
    manager._store.studies.add(record, warm_trials)
    _wake_drivers(manager)
    return record


def _wake_drivers(manager: ScenarioManager) -> None:
    """This process's driver looks at the studies now rather than at its next tick."""
    from algomancy_core.studies.driver import StudyDriver

    for running in manager._runtime.services:
        if isinstance(running, StudyDriver):
            running.wake()


def _points(manager: ScenarioManager, spec: Mapping[str, Any], points: Any) -> list[dict[str, Any]]:
    """Listed warm-start points: each a whole point of the space, run first."""
    if points is None:
        return []
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        raise InvalidInputError("warm_start.points: a list of {parameter: value} objects")
    for n, point in enumerate(points):
        why = search.outside(spec["space"], point)
        if why is not None:
            raise InvalidInputError(f"warm_start.points[{n}]: {why}")
        run_values(manager, spec["base"], point)
    return [dict(p) for p in points]


def _warm_trials(
    manager: ScenarioManager, study_id: str, spec: Mapping[str, Any], warm: Mapping[str, Any]
) -> list[TrialRecord]:
    """Complete scenarios told as trials (numbered from 0): the session's of the
    study's algorithm (`{"scenarios": "session"}`) or an experiment's. A scenario
    joins when it ran the base's dataset and values outside the space, its point is
    in the space and its objective and constraint KPIs have values."""
    runs: list[ScenarioRecord]
    if warm.get("scenarios") is not None:
        if warm["scenarios"] != "session":
            raise InvalidInputError("warm_start.scenarios: only 'session' is known")
        runs = manager.list_scenario_summaries()
    elif warm.get("experiment") is not None:
        found = manager._store.experiments.get(manager.session_id, str(warm["experiment"]))
        if found is None:
            raise NotFoundError(
                f"warm_start.experiment: experiment {warm['experiment']!r} not found"
            )
        wanted = set(found.scenario_ids)
        runs = [s for s in manager.list_scenario_summaries() if s.id in wanted]
    else:
        return []
    base = spec["base"]
    algo_base, data_base = run_values(manager, base, {})
    keys = [d["key"] for d in spec["space"]]
    trials: list[TrialRecord] = []
    for run in runs:
        if (
            run.status is not S.COMPLETE
            or run.algorithm != base["algo_name"]
            or run.dataset_key != base["dataset_key"]
        ):
            continue
        point = {k: _value_of(run, k) for k in keys}
        fixed_algo = {k: v for k, v in algo_base.items() if k not in keys}
        fixed_data = {k: v for k, v in data_base.items() if f"data.{k}" not in keys}
        if any(run.parameters.get(k) != v for k, v in fixed_algo.items()) or any(
            (run.data_parameters or {}).get(k) != v for k, v in fixed_data.items()
        ):
            continue
        told = evaluate(spec, run.kpis)
        if told is None or search.outside(spec["space"], point) is not None:
            continue
        values, constraints = told
        trials.append(
            TrialRecord(
                study_id,
                len(trials),
                T_COMPLETE,
                WARM,
                point,
                run.id,
                values=values,
                constraints=constraints,
            )
        )
    return trials


def _value_of(run: ScenarioRecord, key: str) -> Any:
    if key.startswith("data."):
        return (run.data_parameters or {}).get(key[len("data.") :])
    return run.parameters.get(key)


def get_study(manager: ScenarioManager, study_id: str) -> StudyRecord:
    found = manager._store.studies.get(manager.session_id, study_id)
    if found is None:
        raise missing(study_id)
    return found


def list_studies(manager: ScenarioManager) -> list[StudyRecord]:
    return manager._store.studies.list(manager.session_id)


def stop(manager: ScenarioManager, record: StudyRecord) -> StudyRecord:
    """Ask the study's driver to stop: no trial is asked any more, those in flight
    are cancelled, then the study is `stopped`. A finished study stays as it is."""
    if record.state == RUNNING:
        from algomancy_core.studies.progress import changed

        manager._store.studies.request_stop(manager.session_id, record.id)
        changed(manager, record.id)  # `stopping`, on the session's stream
        _wake_drivers(manager)
    return get_study(manager, record.id)


def delete(manager: ScenarioManager, record: StudyRecord, *, scenarios: bool) -> None:
    """Remove the study and its trials; its trials' queued or processing scenarios
    are cancelled, and with `scenarios` the scenarios it created are deleted."""
    trials = manager._store.studies.trials(record.id)
    manager._store.studies.delete(manager.session_id, record.id)
    for trial in trials:
        if trial.scenario_id is None or trial.source == WARM:
            continue
        with contextlib.suppress(ConflictError, NotFoundError):
            if scenarios:
                run = manager.get_scenario(trial.scenario_id)
                if run.tag == f"{record.name}-{trial.number}":  # not a reused one
                    manager.delete_scenario(trial.scenario_id)
                    continue
            if trial.state == T_RUNNING:
                manager.cancel_scenario(trial.scenario_id)


def _better(direction: str, a: float, b: float) -> bool:
    return a < b if direction == "minimize" else a > b


def dominates(directions: list[str], a: list[float], b: list[float]) -> bool:
    """True when `a` is at least as good as `b` in every objective and better in one."""
    no_worse = all(not _better(d, y, x) for d, x, y in zip(directions, a, b, strict=True))
    return no_worse and any(_better(d, x, y) for d, x, y in zip(directions, a, b, strict=True))


def feasible(trial: TrialRecord) -> bool:
    return trial.state == T_COMPLETE and all(c <= 0 for c in trial.constraints or [])


def pareto(record: StudyRecord, trials: list[TrialRecord]) -> list[TrialRecord]:
    """The feasible complete trials no other feasible complete trial dominates."""
    directions = [o["direction"] for o in record.spec["objectives"]]
    ok = [t for t in trials if feasible(t) and t.values is not None]
    return [
        t
        for t in ok
        if not any(dominates(directions, o.values or [], t.values or []) for o in ok if o is not t)
    ]


def best(record: StudyRecord, trials: list[TrialRecord]) -> TrialRecord | None:
    """The best feasible complete trial of a single-objective study (first on ties)."""
    direction = record.spec["objectives"][0]["direction"]
    found: TrialRecord | None = None
    for trial in trials:
        if not feasible(trial) or trial.values is None:
            continue
        if found is None or _better(direction, trial.values[0], (found.values or [0.0])[0]):
            found = trial
    return found


def trial_out(trial: TrialRecord) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state,
        "source": trial.source,
        "scenario_id": trial.scenario_id,
        "params": trial.params,
        "values": trial.values,
        "constraints": trial.constraints,
        "feasible": feasible(trial),
        "note": trial.note,
    }


def summary(manager: ScenarioManager, record: StudyRecord) -> dict[str, Any]:
    trials = manager._store.studies.trials(record.id)
    spec = record.spec
    counts = {"total": len(trials), "running": 0, "complete": 0, "failed": 0, "pruned": 0}
    for trial in trials:
        counts[trial.state] = counts.get(trial.state, 0) + 1
    counts["warm"] = sum(1 for t in trials if t.source == WARM)
    counts["budgeted"] = counts["total"] - counts["warm"]
    status = record.state
    if status == RUNNING and record.stop_requested:
        status = "stopping"
    multi = len(spec["objectives"]) > 1
    found = None if multi else best(record, trials)
    return {
        "id": record.id,
        "name": record.name,
        "created_at": record.created_at,
        "status": status,
        "ended_by": record.ended_by,
        "base": spec["base"],
        "space": spec["space"],
        "objectives": spec["objectives"],
        "constraints": spec["constraints"],
        "sampler": spec["sampler"],
        "seed": spec["seed"],
        "n_trials": spec["n_trials"],
        "timeout_s": spec["timeout_s"],
        "parallel": spec["parallel"],
        "pruner": spec.get("pruner") or "none",
        "counts": counts,
        "best": None if found is None else trial_out(found),
        "pareto": [trial_out(t) for t in pareto(record, trials)] if multi else None,
    }


def frame_columns(record: StudyRecord) -> tuple[list[str], list[str]]:
    """The parameter columns and the KPI columns (objectives, then constraints)."""
    kpis: list[str] = []
    for item in record.spec["objectives"] + record.spec["constraints"]:
        if item["kpi"] not in kpis:
            kpis.append(item["kpi"])
    return [d["key"] for d in record.spec["space"]], kpis


def rows(
    manager: ScenarioManager, record: StudyRecord, trials: list[TrialRecord]
) -> list[dict[str, Any]]:
    """One row per trial: number, state, source, scenario id, each parameter, each
    objective and constraint KPI (from its run; null until complete)."""
    keys, kpis = frame_columns(record)
    runs = {s.id: s for s in manager.list_scenario_summaries()}
    by_number = {t.number: t for t in trials}
    out = []
    for trial in trials:
        run = runs.get(trial.scenario_id or "")
        same = same_run_as(trial.note) if run is None else None
        if same is not None and same in by_number:  # told from another trial's run
            run = runs.get(by_number[same].scenario_id or "")
        values = run.kpis if run is not None and trial.state == T_COMPLETE else {}
        if trial.state == T_COMPLETE and run is None and trial.values is not None:
            told = [o["kpi"] for o in record.spec["objectives"]]
            values = dict(zip(told, trial.values, strict=True))
        row: dict[str, Any] = {
            "number": trial.number,
            "state": trial.state,
            "source": trial.source,
            "scenario_id": trial.scenario_id,
        }
        row.update({key: trial.params.get(key) for key in keys})
        row.update({kpi: values.get(kpi) for kpi in kpis})
        out.append(row)
    return out


def progress_of(manager: ScenarioManager, study_ids: Collection[str]) -> list[dict[str, Any]]:
    """`{id, name, status, ended_by, counts, best, pareto_size}` of each study of the
    session in `study_ids` (oldest first; deleted ones left out), as `GET …/studies/{id}`
    tells them: `best` the best feasible trial (one objective, else null),
    `pareto_size` the size of the Pareto set (several objectives, else null)."""
    wanted = set(study_ids)
    out = []
    for record in list_studies(manager):
        if record.id not in wanted:
            continue
        told = summary(manager, record)
        pareto = told["pareto"]
        out.append(
            {
                "id": record.id,
                "name": record.name,
                "status": told["status"],
                "ended_by": told["ended_by"],
                "counts": told["counts"],
                "best": told["best"],
                "pareto_size": None if pareto is None else len(pareto),
            }
        )
    return out
