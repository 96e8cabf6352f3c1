"""Many scenarios added in one transaction (`Store.add_scenarios`): an experiment's
points, inserted `queued` by the thousand.

One scenario a transaction (`add_scenario`) cost an experiment of 10,000 points
70 % of its creation: a write lock taken and a commit per point, each a wait behind
the dispatcher's claims and completions of the points already queued. Here a batch
is one transaction of a few statements whatever its size: its dataset versions
checked once each, its positions handed out by one statement, its rows inserted by
multi-row INSERTs (one step of the database each, not one per row) and its
`scenario.created` changes likewise, in the order of the records. Either every
record of the batch is stored, with its change, or none is.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from algomancy_core.changes import scenario_payload
from algomancy_core.errors import NotFoundError
from algomancy_core.names import name_key, tag_taken
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus
from algomancy_core.stores.sql.changes import append_many
from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, Database
from algomancy_core.stores.sql.rows import SCENARIO
from algomancy_core.stores.sql.transaction import Run, insert_rows

_COLUMNS = (*SCENARIO.names, "position", "queue_seq", "tag_key")
_ROW = f"({', '.join('?' * len(_COLUMNS))})"
_INSERT = f"INSERT INTO scenarios ({', '.join(_COLUMNS)}) VALUES "
_SESSION_EXISTS = "SELECT id FROM sessions WHERE id = ?"
_DATASET_EXISTS = "SELECT key FROM datasets WHERE session_id = ? AND key = ?"
_VERSION_EXISTS = "SELECT 1 FROM dataset_versions WHERE session_id = ? AND key = ? AND version = ?"


#: Ids of one read of statuses (bound parameters of one statement).
IDS_AT_ONCE = 500
#: By the primary key alone (the session checked on each row: a filter on it too
#: let SQLite walk the session's index instead, `stores/sql/reads.py`).
_STATUSES = "SELECT id, status, session_id FROM scenarios WHERE id IN ({marks})"
_STATUS = {s.value: s for s in ScenarioStatus}


#: Each column's conversion to what the driver takes, as `scenario_values` then
#: `ScenarioRepository._encode` do one record at a time (`stores/sql/scenarios.py`):
#: JSON text of the dict fields, the status's value, times by the dialect
#: (`_TIME`), the rest as it is (None).
_TIME = "time"
_CONVERT = tuple(
    (lambda v: v.value)
    if name == "status"
    else json.dumps
    if str(field.type).startswith(("dict[", "list["))
    else _TIME
    if "datetime" in str(field.type)
    else None
    for name, field in zip(SCENARIO.names, dataclasses.fields(ScenarioRecord), strict=True)
)
_FIELDS = operator.attrgetter(*SCENARIO.names)


def _values(record: ScenarioRecord, encode: Callable[[datetime], Any]) -> list[Any]:
    """The record's column values, in `SCENARIO.names` order."""
    return [
        v if v is None or convert is None else encode(v) if convert is _TIME else convert(v)  # type: ignore[operator]
        for v, convert in zip(_FIELDS(record), _CONVERT, strict=True)
    ]


class ScenarioBatches:
    """`add_scenarios` and `scenario_statuses` of the SQL store: scenarios by the
    thousand."""

    db: Database

    def add_scenarios(self, records: Sequence[ScenarioRecord]) -> None:
        if not records:
            return
        dialect = self.db.dialect
        encode = dialect.encode_time
        rows = [[*_values(record, encode), None, None, name_key(record.tag)] for record in records]
        try:
            with dialect.transaction(self.db.engine) as run:
                self._check_datasets(run, records)
                for row, record, position in zip(
                    rows, records, dialect.next_positions(run, len(records)), strict=True
                ):
                    row[-3] = position
                    row[-2] = position if record.status is ScenarioStatus.QUEUED else None
                insert_rows(run, _INSERT, _ROW, [tuple(row) for row in rows])
                append_many(
                    self.db,
                    run,
                    [
                        (r.session_id, "scenario.created", r.id, scenario_payload(r))
                        for r in records
                    ],
                )
        except INTEGRITY_ERRORS:
            raise self._tag_taken_in(records) from None

    def scenario_statuses(self, session_id: str, ids: Sequence[str]) -> dict[str, ScenarioStatus]:
        found: dict[str, ScenarioStatus] = {}
        for start in range(0, len(ids), IDS_AT_ONCE):
            chunk = tuple(ids[start : start + IDS_AT_ONCE])
            sql = _STATUSES.format(marks=", ".join("?" * len(chunk)))
            for scenario_id, status, session in self.db.dialect.query(self.db.engine, sql, chunk):
                if session == session_id:
                    found[scenario_id] = _STATUS[status]
        return found

    def _check_datasets(self, run: Run, records: Sequence[ScenarioRecord]) -> None:
        """Each dataset and pinned version the records name exists, and (PostgreSQL)
        stays until the commit: a delete waits, then finds them in use."""
        for session_id, key in dict.fromkeys((r.session_id, r.dataset_key) for r in records):
            if not run(_DATASET_EXISTS + self.db.dialect.for_share, (session_id, key)):
                if not run(_SESSION_EXISTS, (session_id,)):
                    raise NotFoundError(f"session {session_id!r} not found")
                raise NotFoundError(f"dataset {key!r} not found")
        pins = {(r.session_id, r.dataset_key, r.dataset_version) for r in records}
        for session_id, key, pin in sorted(pins, key=str):
            if pin is not None and not run(_VERSION_EXISTS, (session_id, key, pin)):
                raise NotFoundError(f"dataset {key!r} has no version {pin}")

    def _tag_taken_in(self, records: Sequence[ScenarioRecord]) -> Exception:
        """The 409 of the first record whose tag is taken: by a scenario stored, or
        by an earlier record of the batch."""
        seen: dict[tuple[str, str], str] = {}
        for record in records:
            key = (record.session_id, name_key(record.tag))
            found = self.db.dialect.query(
                self.db.engine,
                "SELECT tag FROM scenarios WHERE session_id = ? AND tag_key = ?",
                key,
            )
            if found:
                return tag_taken(record.tag, found[0][0])
            if key in seen:
                return tag_taken(record.tag, seen[key])
            seen[key] = record.tag
        return tag_taken(records[0].tag)
