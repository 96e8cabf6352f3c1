"""The SQL store's experiments: the `experiments` table (their headers) and
`experiment_points` (their points, one row each; see `experiments/book.py`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algomancy_core.experiments.book import (
    ExperimentPage,
    ExperimentPoint,
    ExperimentRecord,
    missing,
    record_from_row,
    taken,
)
from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, Database
from algomancy_core.stores.sql.rows import json_loads
from algomancy_core.stores.sql.schema import experiment_points, experiments

#: Points inserted by one statement (an executemany of this many rows).
CHUNK = 1000

P = experiment_points


#: One point's row (`exec_driver_sql` with a list of tuples: an executemany of
#: plain tuples, several times quicker than a statement fed dicts).
_INSERT = (
    "INSERT INTO experiment_points "
    "(experiment_id, point_index, number, scenario_id, reused, point) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _insert_points(db: Database, conn: Connection, record: ExperimentRecord) -> None:
    """The record's points, `CHUNK` rows an executemany."""
    sql = db.dialect.text(_INSERT)
    reused = set(record.reused)
    numbers = record.numbers or range(1, len(record.points) + 1)
    rows = [
        (record.id, i, number, scenario_id, i + 1 in reused, orjson.dumps(values).decode())
        for i, (values, scenario_id, number) in enumerate(
            zip(record.points, record.scenario_ids, numbers, strict=True)
        )
    ]
    for start in range(0, len(rows), CHUNK):
        conn.exec_driver_sql(sql, rows[start : start + CHUNK])


#: The columns a point is read from, in `_point`'s order.
COLUMNS = (P.c.point_index, P.c.number, P.c.point, P.c.scenario_id, P.c.reused)


def _point(row: Any) -> ExperimentPoint:
    index, number, point, scenario_id, reused = row
    return ExperimentPoint(index, number, orjson.loads(point), scenario_id, bool(reused))


def _points(conn: Connection, experiment_ids: Iterable[str]) -> dict[str, list[ExperimentPoint]]:
    """The points of each experiment in order."""
    wanted = list(experiment_ids)
    out: dict[str, list[ExperimentPoint]] = {i: [] for i in wanted}
    if not wanted:
        return out
    rows = conn.execute(
        sa.select(P.c.experiment_id, *COLUMNS)
        .where(P.c.experiment_id.in_(wanted))
        .order_by(P.c.experiment_id, P.c.point_index)
    )
    for experiment_id, *point in rows:
        out[experiment_id].append(_point(point))
    return out


#: A page: the header (on the row of the point at `offset` only: repeated on each
#: row, its text was a fifth of a page's read) and the points at positions offset to stop (a range
#: of the primary key; none past the end: one row of NULLs), each with its
#: scenario's status and KPIs (NULL when the scenario is gone or of another
#: session).
_PAGE = (
    "SELECT CASE WHEN p.point_index IS NULL OR p.point_index = ? THEN e.name END, "
    "CASE WHEN p.point_index IS NULL OR p.point_index = ? THEN e.body END, "
    "p.point_index, p.number, p.point, p.scenario_id, p.reused, "
    "CASE WHEN s.session_id = e.session_id THEN s.status END, "
    "CASE WHEN s.session_id = e.session_id THEN s.kpis END FROM experiments e "
    "LEFT JOIN experiment_points p ON p.experiment_id = e.id "
    "AND p.point_index >= ? AND p.point_index < ? "
    "LEFT JOIN scenarios s ON s.id = p.scenario_id "
    "WHERE e.id = ? AND e.session_id = ? ORDER BY p.point_index"
)
#: The header alone, should the page's first point not be at `offset` (points are
#: numbered from 0 without gaps, `_insert_points`: it always is).
_HEADER = "SELECT name, body FROM experiments WHERE id = ? AND session_id = ?"


class SQLExperimentBook:
    """The `experiments` and `experiment_points` tables (deleted with their session
    by the foreign keys)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, record: ExperimentRecord) -> None:
        try:
            with self.db.write() as conn:
                conn.execute(
                    sa.insert(experiments).values(
                        id=record.id,
                        session_id=record.session_id,
                        name=record.name,
                        created_at=record.created_at,
                        cancelled=record.cancelled,
                        body=record.header_body().decode(),
                        position=self.db.next_position(conn),
                    )
                )
                _insert_points(self.db, conn, record)
        except INTEGRITY_ERRORS:
            raise taken(record.name) from None

    def _select(self, session_id: str) -> sa.Select[Any]:
        return sa.select(experiments).where(experiments.c.session_id == session_id)

    def get(self, session_id: str, experiment_id: str) -> ExperimentRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                self._select(session_id).where(experiments.c.id == experiment_id)
            ).first()
            if row is None:
                return None
            points = _points(conn, [experiment_id])[experiment_id]
        return record_from_row(row._mapping, points)

    def page(
        self, session_id: str, experiment_id: str, offset: int, limit: int | None
    ) -> ExperimentPage | None:
        """The page's points and, joined to them, their scenarios' status and KPIs
        (nothing else of a scenario is read or decoded): one plain SELECT, whose
        building and compiling as a statement cost more than running it."""
        stop = 2**62 if limit is None else offset + limit
        rows = self.db.dialect.query(
            self.db.engine, _PAGE, (offset, offset, offset, stop, experiment_id, session_id)
        )
        if not rows:
            return None
        name, body = rows[0][:2]
        if body is None:
            name, body = self.db.dialect.query(
                self.db.engine, _HEADER, (experiment_id, session_id)
            )[0]
        header = orjson.loads(body)
        points = []
        outcomes: dict[str, tuple[str, dict[str, Any]]] = {}
        loads = orjson.loads
        for _, _, index, number, point, scenario_id, reused, status, kpis in rows:
            if index is None:
                continue
            points.append(ExperimentPoint(index, number, loads(point), scenario_id, bool(reused)))
            if status is not None:
                outcomes[scenario_id] = (status, json_loads(kpis))
        return ExperimentPage(
            id=experiment_id,
            name=name,
            axes=header["axes"],
            size=header["size"],
            points=points,
            outcomes=outcomes,
        )

    def list(self, session_id: str) -> list[ExperimentRecord]:
        with self.db.read() as conn:
            rows = conn.execute(self._select(session_id).order_by(experiments.c.position)).all()
            points = _points(conn, [row.id for row in rows])
        return [record_from_row(row._mapping, points[row.id]) for row in rows]

    def names(self, session_id: str) -> set[str]:
        with self.db.read() as conn:
            found = conn.execute(
                sa.select(experiments.c.name).where(experiments.c.session_id == session_id)
            )
            return {str(name) for name in found.scalars()}

    def cancel(self, session_id: str, experiment_id: str) -> None:
        t = experiments
        with self.db.write() as conn:
            done = conn.execute(
                sa.update(t)
                .where(t.c.session_id == session_id, t.c.id == experiment_id)
                .values(cancelled=True)
            )
        if done.rowcount == 0:
            raise missing(experiment_id)

    def delete(self, session_id: str, experiment_id: str) -> None:
        t = experiments
        with self.db.write() as conn:
            done = conn.execute(
                sa.delete(t).where(t.c.session_id == session_id, t.c.id == experiment_id)
            )
            if done.rowcount:
                conn.execute(sa.delete(P).where(P.c.experiment_id == experiment_id))
        if done.rowcount == 0:
            raise missing(experiment_id)

    def update(self, record: ExperimentRecord) -> None:
        t = experiments
        with self.db.write() as conn:
            done = conn.execute(
                sa.update(t)
                .where(t.c.session_id == record.session_id, t.c.id == record.id)
                .values(cancelled=record.cancelled, body=record.header_body().decode())
            )
            if done.rowcount:
                conn.execute(sa.delete(P).where(P.c.experiment_id == record.id))
                _insert_points(self.db, conn, record)
        if done.rowcount == 0:
            raise missing(record.id)
