"""Scenarios in SQL, with their result tables and the run queue.

Every write that must not race is one conditional statement (`UPDATE … WHERE
status IN …`), so several threads and processes share one state safely.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, Transition, utcnow
from algomancy_core.stores.base import ScenarioProgress
from algomancy_core.stores.sql.database import AnyRow, Database
from algomancy_core.stores.sql.schema import FIELDS, datasets, result_tables, scenarios
from algomancy_core.stores.sql.sessions import require_session
from algomancy_data import DataSource

S = ScenarioStatus
_JSON_FIELDS = frozenset({"parameters", "result", "kpis"})
_COLUMNS = tuple(scenarios.c[name] for name in FIELDS)
# The statement of the hottest read, built once: building a select costs more than
# running it on SQLite.
_BY_ID = sa.select(*_COLUMNS).where(scenarios.c.id == sa.bindparam("id"))
#: A status poll: a few columns of the scenario and its session, one primary-key join.
_PROGRESS_BY_ID = (
    "SELECT s.id, s.tag, s.status, s.progress, x.id, x.display_name, x.owner "
    "FROM scenarios AS s JOIN sessions AS x ON s.session_id = x.id WHERE s.id = {}"
)
_PROCESSING = S.PROCESSING.value
_QUEUED = S.QUEUED.value
#: The queued scenario a claim considers, next to `scenarios` in its NOT EXISTS test.
_candidate = scenarios.alias("candidate")


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def scenario_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Column values for the record fields in `fields`."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in FIELDS:
            raise ValueError(f"a scenario has no field {name!r}")
        if name in _JSON_FIELDS:
            values[name] = _dumps(value)
        elif name == "status":
            values[name] = ScenarioStatus(value).value
        else:
            values[name] = value
    return values


def transition_values(transition: Transition) -> dict[str, Any]:
    """Column values a transition writes, its stamped fields set to now."""
    changes = transition.changes
    if transition.stamped:
        changes = changes | dict.fromkeys(transition.stamped, utcnow())
    return scenario_values(changes)


def scenario_record(row: AnyRow) -> ScenarioRecord:
    m = row._mapping
    return ScenarioRecord(
        id=m["id"],
        session_id=m["session_id"],
        tag=m["tag"],
        dataset_key=m["dataset_key"],
        algorithm=m["algorithm"],
        parameters=json.loads(m["parameters"]),
        status=ScenarioStatus(m["status"]),
        progress=float(m["progress"]),
        progress_message=m["progress_message"],
        error=m["error"],
        result=None if m["result"] is None else json.loads(m["result"]),
        kpis=json.loads(m["kpis"]),
        created_at=m["created_at"],
        queued_at=m["queued_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        version=m["version"],
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
        cancel_requested=bool(m["cancel_requested"]),
        timeout=None if m["timeout"] is None else float(m["timeout"]),
    )


class ScenarioRepository:
    """The `scenarios` and `result_tables` tables, and the queue they form."""

    db: Database

    # -- scenarios -----------------------------------------------------------
    def add_scenario(self, record: ScenarioRecord) -> None:
        fields = {name: getattr(record, name) for name in FIELDS}
        try:
            with self.db.write() as conn:
                require_session(conn, record.session_id)
                # Its dataset must exist, and stays locked until the scenario is in:
                # a delete of the dataset waits, then sees the scenario and refuses.
                dataset = conn.execute(
                    self.db.dialect.lock_for_share(
                        sa.select(datasets.c.key).where(
                            datasets.c.session_id == record.session_id,
                            datasets.c.key == record.dataset_key,
                        )
                    )
                ).first()
                if dataset is None:
                    raise NotFoundError(f"dataset {record.dataset_key!r} not found")
                taken = conn.execute(
                    sa.select(scenarios.c.id).where(
                        scenarios.c.session_id == record.session_id,
                        scenarios.c.tag == record.tag,
                    )
                ).first()
                if taken is not None:
                    raise ConflictError(f"a scenario tagged {record.tag!r} already exists")
                position = self.db.next_position(conn)
                queued = record.status is S.QUEUED
                conn.execute(
                    sa.insert(scenarios).values(
                        **scenario_values(fields),
                        position=position,
                        queue_seq=position if queued else None,
                    )
                )
        except sa.exc.IntegrityError:
            raise ConflictError(f"a scenario tagged {record.tag!r} already exists") from None

    def get_scenario(self, session_id: str, scenario_id: str) -> ScenarioRecord | None:
        record = self.get_scenario_by_id(scenario_id)
        if record is None or record.session_id != session_id:
            return None
        return record

    def get_scenario_by_id(self, scenario_id: str) -> ScenarioRecord | None:
        with self.db.read() as conn:
            row = conn.execute(_BY_ID, {"id": scenario_id}).first()
        return None if row is None else scenario_record(row)

    def get_scenario_progress(self, scenario_id: str) -> ScenarioProgress | None:
        # The hottest read of all: plain SQL through the dialect's quickest path.
        rows = self.db.dialect.query(self.db.engine, _PROGRESS_BY_ID, (scenario_id,))
        if not rows:
            return None
        id_, tag, status, progress, session_id, name, owner = rows[0]
        return ScenarioProgress(
            id_, tag, ScenarioStatus(status), float(progress), session_id, name, owner or None
        )

    def list_scenarios(self, session_id: str) -> list[ScenarioRecord]:
        return self._select(scenarios.c.session_id == session_id)

    def _select(self, *where: sa.ColumnElement[bool]) -> list[ScenarioRecord]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(*_COLUMNS).where(*where).order_by(scenarios.c.position)
            ).all()
        return [scenario_record(row) for row in rows]

    def delete_scenario(self, session_id: str, scenario_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                sa.delete(result_tables).where(
                    result_tables.c.scenario_id == scenario_id,
                    sa.exists().where(
                        scenarios.c.id == scenario_id, scenarios.c.session_id == session_id
                    ),
                )
            )
            deleted = conn.execute(
                sa.delete(scenarios).where(
                    scenarios.c.id == scenario_id, scenarios.c.session_id == session_id
                )
            )
            if deleted.rowcount == 0:
                raise NotFoundError(f"scenario {scenario_id!r} not found")

    def put_result_tables(self, scenario_id: str, tables: DataSource | None) -> None:
        with self.db.write() as conn:
            conn.execute(sa.delete(result_tables).where(result_tables.c.scenario_id == scenario_id))
            exists = conn.execute(
                sa.select(scenarios.c.id).where(scenarios.c.id == scenario_id)
            ).first()
            if tables is not None and exists is not None:
                conn.execute(
                    sa.insert(result_tables).values(
                        scenario_id=scenario_id, data=tables.to_arrow_bytes()
                    )
                )

    def get_result_tables(self, scenario_id: str) -> DataSource | None:
        with self.db.read() as conn:
            payload = conn.execute(
                sa.select(result_tables.c.data).where(result_tables.c.scenario_id == scenario_id)
            ).scalar()
        return None if payload is None else DataSource.from_arrow_bytes(bytes(payload))

    def count_by_status(self, session_id: str | None = None) -> dict[ScenarioStatus, int]:
        query = sa.select(scenarios.c.status, sa.func.count()).group_by(scenarios.c.status)
        if session_id is not None:
            query = query.where(scenarios.c.session_id == session_id)
        counts = dict.fromkeys(ScenarioStatus, 0)
        with self.db.read() as conn:
            for status, count in conn.execute(query):
                counts[ScenarioStatus(status)] = int(count)
        return counts

    # -- transitions and the run queue -----------------------------------------
    def apply_transition(self, scenario_id: str, transition: Transition) -> ScenarioRecord | None:
        sources = set(transition.source)
        if transition.target is S.QUEUED:
            sources.discard(S.QUEUED)  # already in the queue: keep its place
        if not sources:
            return None
        try:
            with self.db.write() as conn:
                values = transition_values(transition)
                if transition.target is S.QUEUED:
                    values["queue_seq"] = self.db.next_position(conn)
                row = conn.execute(
                    sa.update(scenarios)
                    .where(
                        scenarios.c.id == scenario_id,
                        scenarios.c.status.in_([s.value for s in sources]),
                    )
                    .values(**values, version=scenarios.c.version + 1)
                    .returning(*_COLUMNS)
                ).first()
                if row is not None and transition.drops_results:
                    conn.execute(
                        sa.delete(result_tables).where(result_tables.c.scenario_id == scenario_id)
                    )
        except sa.exc.IntegrityError:
            # A second processing scenario in the session: another claim won.
            return None
        return None if row is None else scenario_record(row)

    def claim_next(self, transition: Transition) -> ScenarioRecord | None:
        busy = sa.select(sa.literal(1)).where(
            scenarios.c.session_id == _candidate.c.session_id, scenarios.c.status == _PROCESSING
        )
        candidate = self.db.dialect.claim_candidate(
            sa.select(_candidate.c.id)
            .where(_candidate.c.status == _QUEUED, ~busy.exists())
            .order_by(_candidate.c.queue_seq)
            .limit(1),
            _candidate,
        )
        for _attempt in range(100):
            try:
                with self.db.write() as conn:
                    scenario_id = conn.execute(candidate).scalar()
                    if scenario_id is None:
                        return None
                    row = conn.execute(
                        sa.update(scenarios)
                        .where(scenarios.c.id == scenario_id, scenarios.c.status == _QUEUED)
                        .values(**transition_values(transition), version=scenarios.c.version + 1)
                        .returning(*_COLUMNS)
                    ).first()
            except sa.exc.IntegrityError:
                # Another worker claimed a scenario of that session first; it is
                # committed now, so the next attempt no longer picks this session.
                continue
            if row is not None:
                return scenario_record(row)
        return None

    def update_progress(self, scenario_id: str, progress: float, message: str | None) -> None:
        with self.db.write() as conn:
            conn.execute(
                sa.update(scenarios)
                .where(scenarios.c.id == scenario_id, scenarios.c.status == _PROCESSING)
                .values(
                    progress=progress, progress_message=message, version=scenarios.c.version + 1
                )
            )

    def request_cancel(self, scenario_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                sa.update(scenarios)
                .where(scenarios.c.id == scenario_id, scenarios.c.status == _PROCESSING)
                .values(cancel_requested=True, version=scenarios.c.version + 1)
            )

    def renew_leases(self, owner: str, lease_until: datetime) -> list[ScenarioRecord]:
        # No version bump: a renewal changes nothing a poller shows.
        with self.db.write() as conn:
            rows = conn.execute(
                sa.update(scenarios)
                .where(scenarios.c.lease_owner == owner, scenarios.c.status == _PROCESSING)
                .values(lease_expires_at=lease_until)
                .returning(*_COLUMNS)
            ).all()
        return [scenario_record(row) for row in rows]

    def expired_runs(self, now: datetime) -> list[ScenarioRecord]:
        return self._select(
            scenarios.c.status == _PROCESSING,
            scenarios.c.lease_expires_at.is_not(None),
            scenarios.c.lease_expires_at < now,
        )

    def runs_held_by(self, owners: Iterable[str]) -> list[ScenarioRecord]:
        wanted = sorted(set(owners))
        if not wanted:
            return []
        return self._select(scenarios.c.status == _PROCESSING, scenarios.c.lease_owner.in_(wanted))

    def active_owners(self) -> list[str]:
        with self.db.read() as conn:
            owners = conn.execute(
                sa.select(scenarios.c.lease_owner)
                .distinct()
                .where(scenarios.c.status == _PROCESSING, scenarios.c.lease_owner.is_not(None))
            ).scalars()
            return sorted(owners)

    def has_queued(self) -> bool:
        with self.db.read() as conn:
            found = conn.execute(
                sa.select(scenarios.c.id).where(scenarios.c.status == _QUEUED).limit(1)
            ).first()
        return found is not None
