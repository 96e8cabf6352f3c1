"""Changing an experiment after it was created: resume its points not complete,
drop points not yet run (`PATCH`)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import ConflictError, InvalidInputError, NotFoundError
from algomancy_core.experiments.book import ExperimentRecord
from algomancy_core.experiments.service import ANALYSED, batch_of, create_point, scenarios_of
from algomancy_core.scenario import ScenarioStatus

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager

S = ScenarioStatus


def resume(manager: ScenarioManager, record: ExperimentRecord) -> tuple[ExperimentRecord, int]:
    """Queue again every point not complete: failed (cancelled too) and never-run
    ones are run, a deleted one gets its scenario again; queued, processing and
    complete ones are left alone. Clears the cancelled mark. The record and how
    many points were queued."""
    ids = list(record.scenario_ids)
    reused = set(record.reused)
    queued = 0
    for i, run in enumerate(scenarios_of(manager, record)):
        if run is None:  # deleted: made again, its own now even if it reused one
            ids[i] = create_point(
                manager,
                batch_of(record.id),
                record.name,
                record.base,
                record.number(i),
                record.points[i],
            )
            reused.discard(i + 1)
            queued += 1
        elif run.status in (S.FAILED, S.CREATED):
            with contextlib.suppress(ConflictError):  # started meanwhile, or stale
                manager.run_scenario(run.id)
                queued += 1
    resumed = dataclasses.replace(record, cancelled=False, scenario_ids=ids, reused=sorted(reused))
    manager._store.experiments.update(resumed)
    return resumed, queued


def drop(
    manager: ScenarioManager,
    record: ExperimentRecord,
    numbers: list[int],
    values: Mapping[str, list[Any]],
) -> ExperimentRecord:
    """Drop points not yet run: those numbered `numbers` (each must not have run:
    `ConflictError`) and those with one of `values[axis key]` (the ones that ran
    stay). Their scenarios are deleted if they had not started."""
    kind = record.design.get("kind")
    if kind in ANALYSED:
        raise ConflictError(
            f"experiment {record.name!r} is {kind!r}: its analysis needs every planned "
            "point, so none can be dropped"
        )
    unknown = sorted(set(values) - set(record.axes))
    if unknown:
        raise InvalidInputError(
            f"drop_values: {', '.join(unknown)} is not an axis ({', '.join(record.axes)})"
        )
    known = {record.number(i): i for i in range(len(record.points))}
    absent = sorted(set(numbers) - set(known))
    if absent:
        raise InvalidInputError(f"drop_points: no point {absent[0]} in this experiment")
    runs = scenarios_of(manager, record)
    reused = {record.scenario_ids[n - 1] for n in record.reused}

    def waiting(i: int) -> bool:
        run = runs[i]
        return run is None or run.status in (S.CREATED, S.QUEUED)

    for number in numbers:
        if not waiting(known[number]):
            run = runs[known[number]]
            raise ConflictError(
                f"point {number} has run (its scenario is {run.status if run else 'gone'}); "
                "only points not yet run can be dropped"
            )
    gone = {known[n] for n in numbers}
    gone |= {
        i
        for i, point in enumerate(record.points)
        if waiting(i) and any(point.get(k) in listed for k, listed in values.items())
    }
    for i in sorted(gone):
        run = runs[i]
        if run is not None and run.id not in reused:
            with contextlib.suppress(NotFoundError):
                manager.delete_scenario(run.id)
    kept = [i for i in range(len(record.points)) if i not in gone]
    position = {old: new for new, old in enumerate(kept, start=1)}
    patched = dataclasses.replace(
        record,
        points=[record.points[i] for i in kept],
        scenario_ids=[record.scenario_ids[i] for i in kept],
        reused=[position[n - 1] for n in record.reused if n - 1 in position],
        numbers=[record.number(i) for i in kept],
        dropped=sorted(record.dropped + [record.number(i) for i in gone]),
    )
    manager._store.experiments.update(patched)
    return patched
