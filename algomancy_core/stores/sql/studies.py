"""The SQL store's studies: the `studies` and `study_trials` tables (see
`studies/book.py`). A trial's number and its scenario are unique in its study: two
drivers that race for one number (one of them past its lease) cannot both write it."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, Database
from algomancy_core.stores.sql.schema import studies, study_trials
from algomancy_core.studies.book import (
    RUNNING,
    StudyRecord,
    TrialRecord,
    missing,
    name_taken,
    study_from_row,
    trial_from_row,
    trial_taken,
)

S, T = studies, study_trials


class SQLStudyBook:
    """Deleted with their session by the foreign keys (trials with their study)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, record: StudyRecord, trials: list[TrialRecord]) -> None:
        try:
            with self.db.write() as conn:
                conn.execute(
                    sa.insert(S).values(
                        id=record.id,
                        session_id=record.session_id,
                        name=record.name,
                        created_at=record.created_at,
                        state=record.state,
                        stop_requested=record.stop_requested,
                        body=record.body(),
                        position=self.db.next_position(conn),
                    )
                )
                for trial in trials:
                    self._insert_trial(conn, trial)
        except INTEGRITY_ERRORS:
            raise name_taken(record.name) from None

    def get(self, session_id: str, study_id: str) -> StudyRecord | None:
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(S).where(S.c.session_id == session_id, S.c.id == study_id)
            ).first()
        return None if row is None else study_from_row(row._mapping)

    def list(self, session_id: str) -> list[StudyRecord]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(S).where(S.c.session_id == session_id).order_by(S.c.position)
            ).all()
        return [study_from_row(row._mapping) for row in rows]

    def running(self) -> builtins.list[StudyRecord]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(S).where(S.c.state == RUNNING).order_by(S.c.position)
            ).all()
        return [study_from_row(row._mapping) for row in rows]

    def delete(self, session_id: str, study_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(sa.delete(T).where(T.c.study_id == study_id))
            done = conn.execute(
                sa.delete(S).where(S.c.session_id == session_id, S.c.id == study_id)
            )
        if done.rowcount == 0:
            raise missing(study_id)

    def request_stop(self, session_id: str, study_id: str) -> None:
        with self.db.write() as conn:
            done = conn.execute(
                sa.update(S)
                .where(S.c.session_id == session_id, S.c.id == study_id)
                .values(stop_requested=True)
            )
        if done.rowcount == 0:
            raise missing(study_id)

    def claim(self, study_id: str, owner: str, now: datetime, until: datetime) -> bool:
        free = sa.or_(
            S.c.lease_owner.is_(None),
            S.c.lease_owner == owner,
            S.c.lease_expires_at.is_(None),
            S.c.lease_expires_at < now,
        )
        with self.db.write(audited=False) as conn:
            done = conn.execute(
                sa.update(S)
                .where(S.c.id == study_id, S.c.state == RUNNING, free)
                .values(lease_owner=owner, lease_expires_at=until)
            )
        return bool(done.rowcount == 1)

    def release(self, study_id: str, owner: str) -> None:
        with self.db.write(audited=False) as conn:
            conn.execute(
                sa.update(S)
                .where(S.c.id == study_id, S.c.lease_owner == owner)
                .values(lease_owner=None, lease_expires_at=None)
            )

    def save(self, record: StudyRecord, owner: str) -> bool:
        with self.db.write(audited=False) as conn:
            done = conn.execute(
                sa.update(S)
                .where(S.c.id == record.id, S.c.lease_owner == owner)
                .values(state=record.state, body=record.body())
            )
        return bool(done.rowcount == 1)

    def trials(self, study_id: str) -> builtins.list[TrialRecord]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(T).where(T.c.study_id == study_id).order_by(T.c.number)
            ).all()
        return [trial_from_row(row._mapping) for row in rows]

    @staticmethod
    def _insert_trial(conn: Connection, trial: TrialRecord) -> None:
        conn.execute(sa.insert(T).values(**_trial_row(trial)))

    def add_trial(self, trial: TrialRecord) -> None:
        try:
            with self.db.write(audited=False) as conn:
                self._insert_trial(conn, trial)
        except INTEGRITY_ERRORS:
            raise trial_taken(trial) from None

    def update_trial(self, trial: TrialRecord) -> None:
        row = _trial_row(trial)
        try:
            with self.db.write(audited=False) as conn:
                done = conn.execute(
                    sa.update(T)
                    .where(T.c.study_id == trial.study_id, T.c.number == trial.number)
                    .values(**{k: v for k, v in row.items() if k not in ("study_id", "number")})
                )
        except INTEGRITY_ERRORS:
            raise trial_taken(trial) from None
        if done.rowcount == 0:
            raise missing(trial.study_id)


def _trial_row(trial: TrialRecord) -> dict[str, Any]:
    return {
        "study_id": trial.study_id,
        "number": trial.number,
        "state": trial.state,
        "source": trial.source,
        "scenario_id": trial.scenario_id,
        "params": orjson.dumps(trial.params).decode(),
        "body": trial.body(),
    }
