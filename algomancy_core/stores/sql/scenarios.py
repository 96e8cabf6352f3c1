"""Scenarios in SQL, with their result tables and the run queue.

Every write that must not race is one conditional statement (`UPDATE … WHERE
status IN …`), so several threads and processes share one state safely.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from algomancy_core.decisions import baseline_pinned
from algomancy_core.errors import NotFoundError
from algomancy_core.names import name_key, tag_taken
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, Transition, utcnow
from algomancy_core.stores.base import ScenarioProgress
from algomancy_core.stores.sql.changes import append_scenario
from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, AnyRow, Database
from algomancy_core.stores.sql.schema import FIELDS, baselines, result_tables, scenarios
from algomancy_data import DataSource

S = ScenarioStatus
_JSON_FIELDS = frozenset(
    {"parameters", "result", "kpis", "data_parameters", "lineage", "trace_context"}
)
_COLUMNS = tuple(scenarios.c[name] for name in FIELDS)
_COLUMN_LIST = ", ".join(FIELDS)
# `_record` reads a row by position, in the record's field order.
if FIELDS[:3] != ("id", "session_id", "tag") or FIELDS[-1] != "trace_context" or len(FIELDS) != 28:
    raise RuntimeError(
        f"ScenarioRecord's fields changed; update ScenarioRepository._record: {FIELDS}"
    )
# The hot statements as plain SQL (`?` for parameters; the dialect adapts them).
_BY_ID = f"SELECT {_COLUMN_LIST} FROM scenarios WHERE id = ?"
_INSERT = (
    f"INSERT INTO scenarios ({_COLUMN_LIST}, position, queue_seq, tag_key) "
    f"VALUES ({', '.join('?' * (len(FIELDS) + 3))})"
)
#: The scenario whose tag is the same once normalised (`names.name_key`).
_LOOK_ALIKE = "SELECT tag FROM scenarios WHERE session_id = ? AND tag_key = ?"

_DATASET_EXISTS = "SELECT key FROM datasets WHERE session_id = ? AND key = ?"
_VERSION_EXISTS = "SELECT 1 FROM dataset_versions WHERE session_id = ? AND key = ? AND version = ?"
_SESSION_EXISTS = "SELECT id FROM sessions WHERE id = ?"
#: Scenarios of one session (the index on session_id and position answers it).
_COUNT_IN_SESSION = "SELECT count(*) FROM scenarios WHERE session_id = ?"
#: The oldest queued scenario of a session with nothing processing. Read session by
#: session: `waiting` steps through the sessions with queued work, one index probe
#: each, so the queue of a busy session costs one probe, not one per queued row.
_CANDIDATE = (
    "WITH RECURSIVE waiting(session_id) AS ("
    "SELECT min(session_id) FROM scenarios WHERE status = 'queued' "
    "UNION ALL SELECT (SELECT min(q.session_id) FROM scenarios AS q "
    "WHERE q.status = 'queued' AND q.session_id > waiting.session_id) "
    "FROM waiting WHERE waiting.session_id IS NOT NULL) "
    "SELECT candidate.id FROM scenarios AS candidate WHERE candidate.id IN ("
    "SELECT (SELECT head.id FROM scenarios AS head WHERE head.status = 'queued' "
    "AND head.session_id = waiting.session_id ORDER BY head.queue_seq LIMIT 1) "
    "FROM waiting WHERE waiting.session_id IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM scenarios AS busy WHERE busy.session_id = waiting.session_id "
    "AND busy.status = 'processing')) "
    "ORDER BY candidate.queue_seq LIMIT 1"
)
#: A status poll: a few columns of the scenario and its session, one primary-key join.
#: A poll's read, without its condition's right-hand side (see `lookup_async`).
_PROGRESS_WHERE_ID = (
    "SELECT s.id, s.tag, s.status, s.progress, x.id, x.display_name, x.owner "
    "FROM scenarios AS s JOIN sessions AS x ON s.session_id = x.id WHERE s.id"
)
_PROGRESS_BY_ID = f"{_PROGRESS_WHERE_ID} = ?"
_PROCESSING = S.PROCESSING.value
_QUEUED = S.QUEUED.value
#: Housekeeping's reads, each second on a shared store: plain SQL, on the queue index.
_EXPIRED = (
    f"SELECT {_COLUMN_LIST} FROM scenarios WHERE status = '{_PROCESSING}' "
    "AND lease_expires_at IS NOT NULL AND lease_expires_at < ? ORDER BY position"
)
_ACTIVE_OWNERS = (
    f"SELECT DISTINCT lease_owner FROM scenarios WHERE status = '{_PROCESSING}' "
    "AND lease_owner IS NOT NULL"
)


def _update(columns: Iterable[str]) -> str:
    """`UPDATE scenarios SET` each of `columns` to a parameter, and the version on."""
    sets = ", ".join(f"{name} = ?" for name in columns)
    return f"UPDATE scenarios SET {sets}, version = version + 1"


def _progress(rows: list[tuple[Any, ...]]) -> ScenarioProgress | None:
    if not rows:
        return None
    id_, tag, status, progress, session_id, name, owner = rows[0]
    return ScenarioProgress(
        id_, tag, ScenarioStatus(status), float(progress), session_id, name, owner or None
    )


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


#: 19 digits in a row: maybe an integer past 64 bits, which orjson reads as a float.
_LONG_DIGITS = re.compile(r"\d{19}")


def _loads(text: str) -> Any:
    """`json.loads`, by orjson (several times quicker: a list of 1,000 scenarios
    spent half its time here); what orjson refuses or reads otherwise (NaN and
    integers past 64 bits, which `json.dumps` writes) by json."""
    if _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def scenario_record(row: AnyRow) -> ScenarioRecord:
    m = row._mapping
    return ScenarioRecord(
        id=m["id"],
        session_id=m["session_id"],
        tag=m["tag"],
        dataset_key=m["dataset_key"],
        algorithm=m["algorithm"],
        parameters=_loads(m["parameters"]),
        status=ScenarioStatus(m["status"]),
        progress=float(m["progress"]),
        progress_message=m["progress_message"],
        error=m["error"],
        result=None if m["result"] is None else _loads(m["result"]),
        kpis=_loads(m["kpis"]),
        created_at=m["created_at"],
        queued_at=m["queued_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        version=m["version"],
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
        cancel_requested=bool(m["cancel_requested"]),
        timeout=None if m["timeout"] is None else float(m["timeout"]),
        data_parameters=_loads(m["data_parameters"]),
        dataset_version=m["dataset_version"],
        dataset_digest=m["dataset_digest"],
        seed=m["seed"],
        lineage=None if m["lineage"] is None else _loads(m["lineage"]),
        fingerprint=m["fingerprint"],
        trace_context=None if m["trace_context"] is None else _loads(m["trace_context"]),
    )


class ScenarioRepository:
    """The `scenarios` and `result_tables` tables, and the queue they form."""

    db: Database

    # -- scenarios -----------------------------------------------------------
    def add_scenario(self, record: ScenarioRecord) -> None:
        dialect = self.db.dialect
        values = self._encode(scenario_values({name: getattr(record, name) for name in FIELDS}))
        try:
            with dialect.transaction(self.db.engine) as run:
                # Its dataset version must exist, and the dataset stays locked until the
                # scenario is in: a delete or a pruning new version waits, then sees
                # the scenario pinned to the version and keeps it.
                found = run(
                    _DATASET_EXISTS + dialect.for_share, (record.session_id, record.dataset_key)
                )
                if not found:
                    if not run(_SESSION_EXISTS, (record.session_id,)):
                        raise NotFoundError(f"session {record.session_id!r} not found")
                    raise NotFoundError(f"dataset {record.dataset_key!r} not found")
                pin = record.dataset_version
                if pin is not None and not run(
                    _VERSION_EXISTS, (record.session_id, record.dataset_key, pin)
                ):
                    raise NotFoundError(f"dataset {record.dataset_key!r} has no version {pin}")
                position = run(dialect.next_position_sql)[0][0]
                queue_seq = position if record.status is S.QUEUED else None
                run(_INSERT, (*values.values(), position, queue_seq, name_key(record.tag)))
                append_scenario(self.db, run, record, "scenario.created")
        except INTEGRITY_ERRORS:
            # The unique (session, tag key) index: no read first, the insert tells.
            found = dialect.query(
                self.db.engine, _LOOK_ALIKE, (record.session_id, name_key(record.tag))
            )
            raise tag_taken(record.tag, found[0][0] if found else None) from None

    def _encode(self, values: dict[str, Any]) -> dict[str, Any]:
        """Column values as the driver takes them (times in the dialect's form)."""
        encode = self.db.dialect.encode_time
        return {k: encode(v) if isinstance(v, datetime) else v for k, v in values.items()}

    def _record(self, row: tuple[Any, ...]) -> ScenarioRecord:
        """A scenario from a row of `_COLUMN_LIST` (the record's fields, in order)."""
        decode = self.db.dialect.decode_time
        (
            id_,
            session_id,
            tag,
            dataset_key,
            algorithm,
            parameters,
            status,
            progress,
            progress_message,
            error,
            result,
            kpis,
            created_at,
            queued_at,
            started_at,
            finished_at,
            version,
            lease_owner,
            lease_expires_at,
            cancel_requested,
            timeout,
            data_parameters,
            dataset_version,
            dataset_digest,
            seed,
            lineage,
            fingerprint,
            trace_context,
        ) = row
        return ScenarioRecord(
            id_,
            session_id,
            tag,
            dataset_key,
            algorithm,
            json.loads(parameters),
            ScenarioStatus(status),
            float(progress),
            progress_message,
            error,
            None if result is None else json.loads(result),
            json.loads(kpis),
            decode(created_at),  # type: ignore[arg-type]
            decode(queued_at),
            decode(started_at),
            decode(finished_at),
            int(version),
            lease_owner,
            decode(lease_expires_at),
            bool(cancel_requested),
            None if timeout is None else float(timeout),
            json.loads(data_parameters),
            None if dataset_version is None else int(dataset_version),
            dataset_digest,
            None if seed is None else int(seed),
            None if lineage is None else json.loads(lineage),
            fingerprint,
            None if trace_context is None else json.loads(trace_context),
        )

    def get_scenario(self, session_id: str, scenario_id: str) -> ScenarioRecord | None:
        record = self.get_scenario_by_id(scenario_id)
        if record is None or record.session_id != session_id:
            return None
        return record

    def get_scenario_by_id(self, scenario_id: str) -> ScenarioRecord | None:
        rows = self.db.dialect.query(self.db.engine, _BY_ID, (scenario_id,))
        return self._record(rows[0]) if rows else None

    def get_scenario_progress(self, scenario_id: str) -> ScenarioProgress | None:
        # The hottest read of all: plain SQL through the dialect's quickest path.
        rows = self.db.dialect.query(self.db.engine, _PROGRESS_BY_ID, (scenario_id,))
        return _progress(rows)

    async def get_scenario_progress_async(self, scenario_id: str) -> ScenarioProgress | None:
        rows = await self.db.dialect.lookup_async(self.db.engine, _PROGRESS_WHERE_ID, scenario_id)
        return _progress(rows)

    def list_scenarios(self, session_id: str) -> list[ScenarioRecord]:
        return self._select(scenarios.c.session_id == session_id)

    def list_scenario_summaries(self, session_id: str) -> list[ScenarioRecord]:
        # The result column is never read: it is the large one.
        columns = [sa.null().label("result") if c.name == "result" else c for c in _COLUMNS]
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(*columns)
                .where(scenarios.c.session_id == session_id)
                .order_by(scenarios.c.position)
            ).all()
        return [scenario_record(row) for row in rows]

    def page_scenarios(
        self,
        session_id: str,
        fingerprint: str | None,
        limit: int | None,
        offset: int,
        *,
        summaries: bool = False,
    ) -> list[ScenarioRecord]:
        """One page, paged in SQL (`LIMIT`/`OFFSET` on the session's order); with
        `summaries`, the result column is never read (as `list_scenario_summaries`)."""
        columns = (
            [sa.null().label("result") if c.name == "result" else c for c in _COLUMNS]
            if summaries
            else _COLUMNS
        )
        query = sa.select(*columns).where(scenarios.c.session_id == session_id)
        if fingerprint is not None:
            query = query.where(scenarios.c.fingerprint == fingerprint)
        query = query.order_by(scenarios.c.position).offset(offset).limit(limit)
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [scenario_record(row) for row in rows]

    def _select(self, *where: sa.ColumnElement[bool]) -> list[ScenarioRecord]:
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(*_COLUMNS).where(*where).order_by(scenarios.c.position)
            ).all()
        return [scenario_record(row) for row in rows]

    def delete_scenario(self, session_id: str, scenario_id: str) -> None:
        with self.db.write() as conn:
            # The row first, locked (PostgreSQL): a concurrent `set_baseline` that
            # locked it first has committed its pin by the time the check reads.
            conn.execute(
                sa.select(scenarios.c.id).where(scenarios.c.id == scenario_id).with_for_update()
            ).first()
            pinned = conn.execute(
                sa.select(scenarios.c.tag)
                .join(baselines, baselines.c.scenario_id == scenarios.c.id)
                .where(baselines.c.session_id == session_id, scenarios.c.id == scenario_id)
            ).first()
            if pinned is not None:
                raise baseline_pinned(pinned[0], scenario_id)
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

    def oldest_queued_at(self) -> datetime | None:
        query = sa.select(sa.func.min(scenarios.c.queued_at)).where(
            scenarios.c.status == S.QUEUED.value
        )
        with self.db.read() as conn:
            oldest = conn.execute(query).scalar()
        if isinstance(oldest, str):  # min() over SQLite's text loses the column's type
            oldest = datetime.fromisoformat(oldest)
        if isinstance(oldest, datetime) and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return oldest

    # -- transitions and the run queue -----------------------------------------
    def apply_transition(self, scenario_id: str, transition: Transition) -> ScenarioRecord | None:
        sources = sorted(s.value for s in transition.source)
        if transition.target is S.QUEUED and S.QUEUED.value in sources:
            sources.remove(S.QUEUED.value)  # already in the queue: keep its place
        if not sources:
            return None
        dialect = self.db.dialect
        values = self._encode(transition_values(transition))
        marks = ", ".join("?" * len(sources))
        where = f" WHERE id = ? AND status IN ({marks})"
        params: tuple[Any, ...] = (scenario_id, *sources)
        if transition.unless_cancel_requested:
            where += " AND cancel_requested = ?"
            params += (False,)
        where += f" RETURNING {_COLUMN_LIST}"
        try:
            with dialect.transaction(self.db.engine) as run:
                if transition.target is S.QUEUED:
                    values["queue_seq"] = run(dialect.next_position_sql)[0][0]
                rows = run(_update(values) + where, (*values.values(), *params))
                if rows and transition.drops_results:
                    run("DELETE FROM result_tables WHERE scenario_id = ?", (scenario_id,))
                record = self._record(rows[0]) if rows else None
                if record is not None:
                    # In the same transaction: the feed has every change, in order.
                    append_scenario(self.db, run, record)
        except INTEGRITY_ERRORS:
            # A second processing scenario in the session: another claim won.
            return None
        return record

    def claim_next(self, transition: Transition) -> ScenarioRecord | None:
        dialect = self.db.dialect
        for _attempt in range(100):
            try:
                with dialect.transaction(self.db.engine) as run:
                    if dialect.locks_at_begin:
                        # The transaction holds the write lock already: no run can
                        # finish meanwhile, so the stamp is taken now and the pick and
                        # the claim are one statement.
                        values = self._encode(transition_values(transition))
                        rows = run(
                            f"{_update(values)} WHERE id = ({_CANDIDATE}) "
                            f"AND status = '{_QUEUED}' RETURNING {_COLUMN_LIST}",
                            tuple(values.values()),
                        )
                    else:
                        found = run(_CANDIDATE + dialect.skip_locked)
                        if not found:
                            return None
                        # Stamped now, after the read that saw the session's previous
                        # run finish: this start never comes before that run's end.
                        values = self._encode(transition_values(transition))
                        rows = run(
                            f"{_update(values)} WHERE id = ? AND status = '{_QUEUED}' "
                            f"RETURNING {_COLUMN_LIST}",
                            (*values.values(), found[0][0]),
                        )
                    if rows:
                        append_scenario(self.db, run, self._record(rows[0]))
            except INTEGRITY_ERRORS:
                # Another worker claimed a scenario of that session first; it is
                # committed now, so the next attempt no longer picks this session.
                continue
            return self._record(rows[0]) if rows else None
        return None

    def update_progress(
        self, scenario_id: str, progress: float, message: str | None
    ) -> ScenarioRecord | None:
        with self.db.dialect.transaction(self.db.engine) as run:
            rows = run(
                "UPDATE scenarios SET progress = ?, progress_message = ?, "
                f"version = version + 1 WHERE id = ? AND status = '{_PROCESSING}' "
                f"RETURNING {_COLUMN_LIST}",
                (progress, message, scenario_id),
            )
            record = self._record(rows[0]) if rows else None
            if record is not None:
                append_scenario(self.db, run, record, "scenario.progress")
        return record

    def request_cancel(self, scenario_id: str) -> bool:
        rows = self.db.dialect.write(
            self.db.engine,
            "UPDATE scenarios SET cancel_requested = ?, version = version + 1 "
            f"WHERE id = ? AND status = '{_PROCESSING}' RETURNING id",
            (True, scenario_id),
        )
        return bool(rows)

    def renew_leases(self, owner: str, lease_until: datetime) -> list[ScenarioRecord]:
        # No version bump: a renewal changes nothing a poller shows.
        dialect = self.db.dialect
        rows = dialect.write(
            self.db.engine,
            f"UPDATE scenarios SET lease_expires_at = ? WHERE lease_owner = ? "
            f"AND status = '{_PROCESSING}' RETURNING {_COLUMN_LIST}",
            (dialect.encode_time(lease_until), owner),
        )
        return [self._record(row) for row in rows]

    def expired_runs(self, now: datetime) -> list[ScenarioRecord]:
        rows = self.db.dialect.query(self.db.engine, _EXPIRED, (self.db.dialect.encode_time(now),))
        return [self._record(row) for row in rows]

    def runs_held_by(self, owners: Iterable[str]) -> list[ScenarioRecord]:
        wanted = sorted(set(owners))
        if not wanted:
            return []
        return self._select(scenarios.c.status == _PROCESSING, scenarios.c.lease_owner.in_(wanted))

    def active_owners(self) -> list[str]:
        return sorted(row[0] for row in self.db.dialect.query(self.db.engine, _ACTIVE_OWNERS))

    def count_scenarios(self, session_id: str) -> int:
        return int(self.db.dialect.query(self.db.engine, _COUNT_IN_SESSION, (session_id,))[0][0])
