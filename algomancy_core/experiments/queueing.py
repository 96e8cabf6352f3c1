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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.experiments.template import PointTemplate
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
    """The fields of the scenario a point would be (`PointTemplate.fields`); an
    experiment makes its template once for all its points."""
    return PointTemplate(manager, algo_name).fields(pinned, values, data_values, seed)


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


#: `new_ids`: byte 6 of a UUID holds its version (4), byte 8 its variant (RFC 4122).
_VERSION_4 = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))


def new_ids(count: int) -> list[str]:
    """`count` ids as `scenario.new_id` makes them (random UUIDs, version 4), from
    one read of the system's randomness rather than one each (each read releases
    the GIL: a wait behind the workers running the points already queued), their
    version and variant bits set on all of them at once and written from one hex
    string (a `uuid.UUID` each took 3 µs, these take 0.8)."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = raw[6::16].translate(_VERSION_4)
    raw[8::16] = raw[8::16].translate(_VARIANT)
    h = raw.hex()
    return [
        f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-"
        f"{h[i + 16 : i + 20]}-{h[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]


def _undo(manager: ScenarioManager, ids: list[str]) -> None:
    """Delete the scenarios of `ids` (cancelled first if they started meanwhile)."""
    for scenario_id in ids:
        with contextlib.suppress(NotFoundError, ConflictError):
            manager.delete_scenario(scenario_id)


def _announce(manager: ScenarioManager, records: list[ScenarioRecord]) -> None:
    """Tell of the new scenarios: one append of their changes to the feed (a change
    each still: followers see every one) and one wake of its followers."""
    lifecycle = manager._runtime.lifecycle
    lifecycle.created_many(records)
    if lifecycle.observers:
        for record in records:
            lifecycle.observers.run_queued(record)
    if lifecycle.on_queued is not None:
        for record in records:
            lifecycle.on_queued(record)
