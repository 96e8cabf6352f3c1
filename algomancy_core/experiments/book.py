"""Where experiments are kept: `ExperimentBook` in each store (`store.experiments`); the memory
store's here, the SQL store's in `stores/sql/experiments.py`.

An experiment record holds its request (base and design), its planned points and
the ids of the scenarios that run them. Its progress is read from those scenarios,
never copied here. A book keeps the record's small header (`header_body`) apart from
its points (`ExperimentPoint`, one each: a row of their own in the SQL store, since
schema version 16), so that a page of the points (`ExperimentBook.page`, the
frame's) is read without the others.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.session_records import MemorySessionRecords


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
    #: the same run fingerprint instead of a scenario of their own; ascending.
    reused: list[int] = dataclasses.field(default_factory=list)
    #: The points' numbers (their tags' `{name}-{n}`) once some were dropped
    #: (`PATCH`); empty while they are 1 ... len(points).
    numbers: list[int] = dataclasses.field(default_factory=list)
    #: Numbers of the points dropped before they ran.
    dropped: list[int] = dataclasses.field(default_factory=list)

    def number(self, index: int) -> int:
        """The number of the point at `index` (from 0)."""
        return self.numbers[index] if self.numbers else index + 1

    def header_body(self) -> bytes:
        """The header as JSON: base, design, axes, the number of points (`size`) and
        the dropped points' numbers; the points are kept apart (`point_rows`)."""
        body = {name: getattr(self, name) for name in ("base", "design", "axes")}
        body["size"] = len(self.points)
        if self.dropped:
            body["dropped"] = self.dropped
        return orjson.dumps(body)

    def point_rows(self, offset: int = 0, limit: int | None = None) -> list[ExperimentPoint]:
        """The points `offset` to `offset + limit` (default all), each with its
        number, scenario and whether it reuses that scenario."""
        stop = None if limit is None else offset + limit
        # `reused` is sorted: each point looked up in it, not a set made of it all
        # (a page of an experiment that reused 10,000 points cost as much as them).
        reused = self.reused
        return [
            ExperimentPoint(
                index=i,
                number=self.number(i),
                values=self.points[i],
                scenario_id=self.scenario_ids[i],
                reused=_holds(reused, i + 1),
            )
            for i in range(len(self.points))[offset:stop]
        ]

    def page(self, offset: int, limit: int | None) -> ExperimentPage:
        """The points `offset` to `offset + limit` (all with `limit` None)."""
        return ExperimentPage(
            id=self.id,
            name=self.name,
            axes=self.axes,
            size=len(self.points),
            points=self.point_rows(offset, limit),
        )


def _holds(ordered: Sequence[int], value: int) -> bool:
    """Whether the sorted `ordered` holds `value`."""
    at = bisect.bisect_left(ordered, value)
    return at < len(ordered) and ordered[at] == value


@dataclasses.dataclass(frozen=True, slots=True)
class ExperimentPoint:
    """One planned point of an experiment, as a book keeps it."""

    #: Its position among the experiment's points, from 0.
    index: int
    #: Its number (its scenario's tag `{name}-{number}`), from 1.
    number: int
    #: `{axis key: value}`.
    values: dict[str, Any]
    scenario_id: str
    #: It reuses a complete scenario of the session instead of one of its own.
    reused: bool


@dataclasses.dataclass(frozen=True, slots=True)
class ExperimentPage:
    """Some of an experiment's points, with what the frame needs of its header."""

    id: str
    name: str
    axes: list[str]
    #: How many points the experiment has.
    size: int
    points: list[ExperimentPoint]
    #: Scenario id → `(status, kpis)` of the points' scenarios still in the session,
    #: when the book read them with the points (the SQL book, in one query); None
    #: when it did not (the caller reads the scenarios).
    outcomes: dict[str, tuple[str, dict[str, Any]]] | None = None


class ExperimentBook(Protocol):
    def add(self, record: ExperimentRecord) -> None:
        """`ConflictError` if the name is taken in the session."""

    def get(self, session_id: str, experiment_id: str) -> ExperimentRecord | None: ...

    def page(
        self, session_id: str, experiment_id: str, offset: int, limit: int | None
    ) -> ExperimentPage | None:
        """The points `offset` to `offset + limit` (all with `limit` None), read
        without the others."""

    def list(self, session_id: str) -> list[ExperimentRecord]:
        """Oldest first."""

    def names(self, session_id: str) -> set[str]:
        """The session's experiments' names, without reading their points."""

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


class MemoryExperimentBook(MemorySessionRecords[ExperimentRecord]):
    def __init__(self) -> None:
        super().__init__(taken, missing)

    def add(self, record: ExperimentRecord) -> None:
        with self._lock:
            self._add(record)

    def page(
        self, session_id: str, experiment_id: str, offset: int, limit: int | None
    ) -> ExperimentPage | None:
        found = self.get(session_id, experiment_id)
        return None if found is None else found.page(offset, limit)

    def names(self, session_id: str) -> set[str]:
        return {r.name for r in self.list(session_id)}

    def cancel(self, session_id: str, experiment_id: str) -> None:
        with self._lock:
            found = self._mine(session_id, experiment_id)
            self._records[experiment_id] = dataclasses.replace(found, cancelled=True)

    def delete(self, session_id: str, experiment_id: str) -> None:
        with self._lock:
            self._mine(session_id, experiment_id)
            del self._records[experiment_id]

    def update(self, record: ExperimentRecord) -> None:
        with self._lock:
            self._mine(record.session_id, record.id)
            self._records[record.id] = record


def record_from_row(m: Any, points: Sequence[ExperimentPoint]) -> ExperimentRecord:
    """The record of an `experiments` row (its header) and its points in order."""
    header = orjson.loads(m["body"])
    dropped = header.get("dropped", [])
    return ExperimentRecord(
        id=m["id"],
        session_id=m["session_id"],
        name=m["name"],
        created_at=m["created_at"],
        cancelled=bool(m["cancelled"]),
        base=header["base"],
        design=header["design"],
        axes=header["axes"],
        points=[p.values for p in points],
        scenario_ids=[p.scenario_id for p in points],
        reused=[p.index + 1 for p in points if p.reused],
        numbers=[p.number for p in points] if dropped else [],
        dropped=dropped,
    )
