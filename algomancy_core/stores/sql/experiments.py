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
from algomancy_core.stores.sql.schema import experiment_points, experiments, scenarios

#: Points inserted by one statement (an executemany of this many rows).
CHUNK = 1000

P = experiment_points


def _insert_points(conn: Connection, experiment_id: str, points: list[ExperimentPoint]) -> None:
    for start in range(0, len(points), CHUNK):
        chunk = points[start : start + CHUNK]
        conn.execute(
            sa.insert(P),
            [
                {
                    "experiment_id": experiment_id,
                    "point_index": p.index,
                    "number": p.number,
                    "scenario_id": p.scenario_id,
                    "reused": p.reused,
                    "point": orjson.dumps(p.values).decode(),
                }
                for p in chunk
            ],
        )


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
                _insert_points(conn, record.id, record.point_rows())
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
        (nothing else of a scenario is read or decoded)."""
        t, s = experiments, scenarios
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(t.c.name, t.c.body).where(
                    t.c.session_id == session_id, t.c.id == experiment_id
                )
            ).first()
            if row is None:
                return None
            # The positions are 0 ... size - 1: a range of the primary key.
            where = [P.c.experiment_id == experiment_id, P.c.point_index >= offset]
            if limit is not None:
                where.append(P.c.point_index < offset + limit)
            rows = conn.execute(
                sa.select(*COLUMNS, s.c.session_id, s.c.status, s.c.kpis)
                .select_from(P.outerjoin(s, s.c.id == P.c.scenario_id))
                .where(*where)
                .order_by(P.c.point_index)
            ).all()
        header = orjson.loads(row.body)
        return ExperimentPage(
            id=experiment_id,
            name=row.name,
            axes=header["axes"],
            size=header["size"],
            points=[_point(r[:5]) for r in rows],
            outcomes={
                r.scenario_id: (r.status, json_loads(r.kpis)) for r in rows if r[5] == session_id
            },
        )

    def list(self, session_id: str) -> list[ExperimentRecord]:
        with self.db.read() as conn:
            rows = conn.execute(self._select(session_id).order_by(experiments.c.position)).all()
            points = _points(conn, [row.id for row in rows])
        return [record_from_row(row._mapping, points[row.id]) for row in rows]

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
                _insert_points(conn, record.id, record.point_rows())
        if done.rowcount == 0:
            raise missing(record.id)
