"""The SQL store's experiments: the `experiments` table (see `experiments/book.py`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from algomancy_core.experiments.book import ExperimentRecord, missing, record_from_row, taken
from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, Database
from algomancy_core.stores.sql.schema import experiments


class SQLExperimentBook:
    """The `experiments` table (deleted with its session by the foreign key)."""

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
                        body=record.body().decode(),
                        position=self.db.next_position(conn),
                    )
                )
        except INTEGRITY_ERRORS:
            raise taken(record.name) from None

    def _select(self, session_id: str) -> sa.Select[Any]:
        return sa.select(experiments).where(experiments.c.session_id == session_id)

    def get(self, session_id: str, experiment_id: str) -> ExperimentRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                self._select(session_id).where(experiments.c.id == experiment_id)
            ).first()
        return None if row is None else record_from_row(row._mapping)

    def list(self, session_id: str) -> list[ExperimentRecord]:
        with self.db.read() as conn:
            rows = conn.execute(self._select(session_id).order_by(experiments.c.position)).all()
        return [record_from_row(row._mapping) for row in rows]

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
        if done.rowcount == 0:
            raise missing(experiment_id)

    def update(self, record: ExperimentRecord) -> None:
        t = experiments
        with self.db.write() as conn:
            done = conn.execute(
                sa.update(t)
                .where(t.c.session_id == record.session_id, t.c.id == record.id)
                .values(cancelled=record.cancelled, body=record.body().decode())
            )
        if done.rowcount == 0:
            raise missing(record.id)
