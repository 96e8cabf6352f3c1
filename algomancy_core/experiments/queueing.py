"""Adding an experiment's scenarios, already queued, many at once.

`create_scenario` then `run_scenario` per point did, for each: a count of the
session's scenarios (the limit), two dataset reads, an insert, a read back, a
transition and a wake of the dispatcher. An experiment checks the limit and reads
each dataset version once, and has every record (its lineage and fingerprint
computed for reuse) before it creates any: here each is inserted `queued` at once
(one `scenario.created` change whose scenario is `queued`), a chunk of them in one
transaction (`Store.add_scenarios`), and the dispatcher is woken per chunk rather
than per point. See
`benchmarks/bench_experiments.py`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.lineage import default_seed, run_lineage
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, utcnow

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager
    from algomancy_core.stores.base import DatasetVersion

#: Points inserted in one transaction (`Store.add_scenarios`) and announced to the
#: dispatcher and observers together. 500: the insert of a chunk holds SQLite's
#: write lock for a few milliseconds (a claim or a session's own run waits no
#: longer), and 10,000 points are 20 transactions and 20 wakes of the dispatcher,
#: where one a point made a wait behind the workers at each (see
#: `benchmarks/bench_experiments.py`).
CHUNK = 500


def point_fields(
    manager: ScenarioManager,
    algo_name: str,
    pinned: DatasetVersion,
    values: dict[str, Any],
    data_values: dict[str, Any],
    seed: int | None,
) -> dict[str, Any]:
    """The fields of the scenario a point would be (but its id, tag and state), with
    its lineage and run fingerprint as `create_scenario` computes them: the `pinned`
    dataset version, `seed` or the default seed. Fields, not a record: the record is
    made once, when its id and tag are known (`add_queued`; a copy of a frozen
    record of 30 fields cost a point about as much as its fingerprint)."""
    fields: dict[str, Any] = {
        "session_id": manager.session_id,
        "dataset_key": pinned.key,
        "algorithm": algo_name,
        "parameters": values,
        "data_parameters": data_values,
        "dataset_version": pinned.version,
        "dataset_digest": pinned.digest,
        "seed": default_seed(pinned.digest, algo_name, values, data_values)
        if seed is None
        else seed,
    }
    draft = ScenarioRecord(id="", tag="", **fields)
    fields.update(run_lineage(draft, manager.algorithm(algo_name), executor=None))
    return fields


def add_queued(
    manager: ScenarioManager, records: Mapping[str, Mapping[str, Any]], batch: str
) -> list[str]:
    """Insert a scenario of each `point_fields` (by tag), queued in `batch`, and
    announce it, `CHUNK` at a time (`Store.add_scenarios`: one transaction each);
    their ids in order. When a chunk fails, the chunks before it are deleted again
    and the error raised: nothing of the experiment is left half-created."""
    store = manager._store
    trace = manager._runtime.observers.queue_context()
    tagged = list(records.items())
    ids = new_ids(len(tagged))
    made = []
    for scenario_id, (tag, fields) in zip(ids, tagged, strict=True):
        now = utcnow()
        made.append(
            ScenarioRecord(
                id=scenario_id,
                tag=tag,
                status=ScenarioStatus.QUEUED,
                created_at=now,
                queued_at=now,
                trace_context=None if trace is None else dict(trace),
                batch=batch,
                **fields,
            )
        )
    for start in range(0, len(made), CHUNK):
        chunk = made[start : start + CHUNK]
        try:
            store.add_scenarios(chunk)
        except Exception:
            _undo(manager, ids[:start])
            raise
        _announce(manager, chunk)
    return ids


def new_ids(count: int) -> list[str]:
    """`count` ids as `scenario.new_id` makes them (random UUIDs, version 4), from
    one read of the system's randomness rather than one each (each read releases
    the GIL: a wait behind the workers running the points already queued)."""
    randomness = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=randomness[16 * i : 16 * i + 16], version=4)) for i in range(count)]


def _undo(manager: ScenarioManager, ids: list[str]) -> None:
    """Delete the scenarios of `ids` (cancelled first if they started meanwhile)."""
    for scenario_id in ids:
        with contextlib.suppress(NotFoundError, ConflictError):
            manager.delete_scenario(scenario_id)


def _announce(manager: ScenarioManager, records: list[ScenarioRecord]) -> None:
    lifecycle = manager._runtime.lifecycle
    for record in records:
        lifecycle.created(record)
        if lifecycle.observers:
            lifecycle.observers.run_queued(record)
    if lifecycle.on_queued is not None:
        for record in records:
            lifecycle.on_queued(record)
