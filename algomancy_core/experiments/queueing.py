"""Adding an experiment's scenarios, already queued, many at once.

`create_scenario` then `run_scenario` per point did, for each: a count of the
session's scenarios (the limit), two dataset reads, an insert, a read back, a
transition and a wake of the dispatcher. An experiment checks the limit and reads
each dataset version once, and has every record (its lineage and fingerprint
computed for reuse) before it creates any: here each is inserted `queued` at once
(one write, one `scenario.created` change whose scenario is `queued`), and the
dispatcher is woken per chunk rather than per point. See
`benchmarks/bench_experiments.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.lineage import default_seed, run_lineage
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, new_id, utcnow

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager
    from algomancy_core.stores.base import DatasetVersion

#: Points announced to the dispatcher and observers together.
CHUNK = 200


def point_record(
    manager: ScenarioManager,
    algo_name: str,
    pinned: DatasetVersion,
    values: dict[str, Any],
    data_values: dict[str, Any],
    seed: int | None,
) -> ScenarioRecord:
    """The scenario a point would be (no id or tag yet), with its lineage and run
    fingerprint as `create_scenario` computes them: the `pinned` dataset version,
    `seed` or the default seed."""
    record = ScenarioRecord(
        id="",
        session_id=manager.session_id,
        tag="",
        dataset_key=pinned.key,
        algorithm=algo_name,
        parameters=values,
        data_parameters=data_values,
        dataset_version=pinned.version,
        dataset_digest=pinned.digest,
        seed=default_seed(pinned.digest, algo_name, values, data_values) if seed is None else seed,
    )
    return record.copy(**run_lineage(record, manager.algorithm(algo_name), executor=None))


def add_queued(
    manager: ScenarioManager, records: Mapping[str, ScenarioRecord], batch: str
) -> list[str]:
    """Insert each record (by tag), queued in `batch`, and announce it; their ids in
    order."""
    store = manager._store
    trace = manager._runtime.observers.queue_context()
    ids: list[str] = []
    pending: list[ScenarioRecord] = []
    for tag, planned in records.items():
        now = utcnow()
        record = planned.copy(
            id=new_id(),
            tag=tag,
            status=ScenarioStatus.QUEUED,
            created_at=now,
            queued_at=now,
            trace_context=None if trace is None else dict(trace),
            batch=batch,
        )
        store.add_scenario(record)
        ids.append(record.id)
        pending.append(record)
        if len(pending) >= CHUNK:
            _announce(manager, pending)
            pending = []
    _announce(manager, pending)
    return ids


def _announce(manager: ScenarioManager, records: list[ScenarioRecord]) -> None:
    lifecycle = manager._runtime.lifecycle
    for record in records:
        lifecycle.created(record)
        if lifecycle.observers:
            lifecycle.observers.run_queued(record)
    if lifecycle.on_queued is not None:
        for record in records:
            lifecycle.on_queued(record)
