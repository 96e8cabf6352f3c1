"""Where experiments are kept: `ExperimentBook` in each store (`store.experiments`); the memory
store's here, the SQL store's in `stores/sql/experiments.py`.

An experiment record holds its request (base and design), its planned points and
the ids of the scenarios that run them. Its progress is read from those scenarios,
never copied here.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from typing import Any, Protocol

import orjson

from algomancy_core.errors import ConflictError, NotFoundError


@dataclasses.dataclass(frozen=True, slots=True)
class ExperimentRecord:
    id: str
    session_id: str
    name: str
    created_at: datetime
    #: `{"algo_name", "dataset_key", "algo_params", "data_params"}`.
    base: dict[str, Any]
    #: `{"kind", "n", "seed", "axes": [...]}` as requested.
    design: dict[str, Any]
    #: Axis keys in design order (frame columns).
    axes: list[str]
    #: `{axis key: value}` per point, in order; point n runs as scenario_ids[n].
    points: list[dict[str, Any]]
    scenario_ids: list[str]
    cancelled: bool = False
    #: Points (numbered from 1) that reuse a complete scenario of the session with
    #: the same run fingerprint instead of a scenario of their own.
    reused: list[int] = dataclasses.field(default_factory=list)
    #: The points' numbers (their tags' `{name}-{n}`) once some were dropped
    #: (`PATCH`); empty while they are 1 ... len(points).
    numbers: list[int] = dataclasses.field(default_factory=list)
    #: Numbers of the points dropped before they ran.
    dropped: list[int] = dataclasses.field(default_factory=list)

    def number(self, index: int) -> int:
        """The number of the point at `index` (from 0)."""
        return self.numbers[index] if self.numbers else index + 1

    def body(self) -> bytes:
        fields = ("base", "design", "axes", "points", "scenario_ids", "reused")
        body = {name: getattr(self, name) for name in fields}
        if self.dropped:
            body |= {"numbers": self.numbers, "dropped": self.dropped}
        return orjson.dumps(body)


class ExperimentBook(Protocol):
    def add(self, record: ExperimentRecord) -> None:
        """`ConflictError` if the name is taken in the session."""

    def get(self, session_id: str, experiment_id: str) -> ExperimentRecord | None: ...

    def list(self, session_id: str) -> list[ExperimentRecord]:
        """Oldest first."""

    def cancel(self, session_id: str, experiment_id: str) -> None:
        """Mark cancelled; `NotFoundError` if absent."""

    def delete(self, session_id: str, experiment_id: str) -> None:
        """`NotFoundError` if absent."""

    def update(self, record: ExperimentRecord) -> None:
        """Store `record`'s points, scenarios and cancelled flag in place of the
        experiment's (resume, PATCH); `NotFoundError` if absent."""


def taken(name: str) -> ConflictError:
    return ConflictError(f"an experiment named {name!r} exists in this session")


def missing(experiment_id: str) -> NotFoundError:
    return NotFoundError(f"experiment {experiment_id!r} not found")


class MemoryExperimentBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, ExperimentRecord] = {}

    def add(self, record: ExperimentRecord) -> None:
        with self._lock:
            if any(
                r.session_id == record.session_id and r.name == record.name
                for r in self._records.values()
            ):
                raise taken(record.name)
            self._records[record.id] = record

    def get(self, session_id: str, experiment_id: str) -> ExperimentRecord | None:
        with self._lock:
            found = self._records.get(experiment_id)
        return found if found is not None and found.session_id == session_id else None

    def list(self, session_id: str) -> list[ExperimentRecord]:
        with self._lock:
            return [r for r in self._records.values() if r.session_id == session_id]

    def cancel(self, session_id: str, experiment_id: str) -> None:
        with self._lock:
            found = self._records.get(experiment_id)
            if found is None or found.session_id != session_id:
                raise missing(experiment_id)
            self._records[experiment_id] = dataclasses.replace(found, cancelled=True)

    def delete(self, session_id: str, experiment_id: str) -> None:
        with self._lock:
            found = self._records.get(experiment_id)
            if found is None or found.session_id != session_id:
                raise missing(experiment_id)
            del self._records[experiment_id]

    def update(self, record: ExperimentRecord) -> None:
        with self._lock:
            found = self._records.get(record.id)
            if found is None or found.session_id != record.session_id:
                raise missing(record.id)
            self._records[record.id] = record

    def forget_session(self, session_id: str) -> None:
        with self._lock:
            for record in [r for r in self._records.values() if r.session_id == session_id]:
                del self._records[record.id]


def record_from_row(m: Any) -> ExperimentRecord:
    body = orjson.loads(m["body"])
    return ExperimentRecord(
        id=m["id"],
        session_id=m["session_id"],
        name=m["name"],
        created_at=m["created_at"],
        cancelled=bool(m["cancelled"]),
        **body,
    )
