"""Scenarios in SQL, with their result tables and the run queue.

Every write that must not race is one conditional statement (`UPDATE … WHERE
status IN …`), so several threads and processes share one state safely.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from algomancy_core.decisions import baseline_pinned
from algomancy_core.errors import NotFoundError
from algomancy_core.names import name_key, scenarios_full, tag_taken
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, Transition, utcnow
from algomancy_core.stores.base import LatestMoved
from algomancy_core.stores.sql.changes import append_scenario
from algomancy_core.stores.sql.claims import CANDIDATE as _CANDIDATE
from algomancy_core.stores.sql.database import INTEGRITY_ERRORS, Database
from algomancy_core.stores.sql.reads import COUNT_IN_SESSION
from algomancy_core.stores.sql.rows import SCENARIO
from algomancy_core.stores.sql.transaction import Run
from algomancy_data import DataSource

S = ScenarioStatus
_JSON_FIELDS = frozenset(
    {"parameters", "result", "kpis", "data_parameters", "lineage", "trace_context"}
)
_COLUMN_LIST = SCENARIO.columns
_INSERT = (
    f"INSERT INTO scenarios ({', '.join(SCENARIO.names)}, position, queue_seq, tag_key) "
    f"VALUES ({', '.join('?' * (len(SCENARIO.names) + 3))})"
)
#: The scenario whose tag is the same once normalised (`names.name_key`).
_LOOK_ALIKE = "SELECT tag FROM scenarios WHERE session_id = ? AND tag_key = ?"

#: The dataset, whether it has the version (`{version}`) and a bound on the
#: scenarios the table holds (`{bound}`: NULL, or the dialect's
#: `scenario_rows_bound_sql`): one statement, in the write lock.
_DATASET_CHECK = (
    "SELECT d.key, {version}, {bound} FROM datasets AS d WHERE d.session_id = ? AND d.key = ?"
)
_HAS_VERSION = (
    "EXISTS (SELECT 1 FROM dataset_versions AS v "
    "WHERE v.session_id = d.session_id AND v.key = d.key AND v.version = ?)"
)
#: Whether the version, with its digest, is the dataset's latest.
_IS_LATEST = (
    "EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v.session_id = d.session_id "
    "AND v.key = d.key AND v.version = ? AND v.digest = ?) AND NOT EXISTS (SELECT 1 "
    "FROM dataset_versions AS w WHERE w.session_id = d.session_id AND w.key = d.key "
    "AND w.version > ?)"
)
_SESSION_EXISTS = "SELECT id FROM sessions WHERE id = ?"
_PROCESSING = S.PROCESSING.value
_QUEUED = S.QUEUED.value
_EXISTS = "SELECT id FROM scenarios WHERE id = ?"
#: The scenario's tag when it is the session's pinned baseline.
_PINNED = (
    "SELECT s.tag FROM scenarios AS s JOIN baselines AS b ON b.scenario_id = s.id "
    "WHERE b.session_id = ? AND s.id = ?"
)
_DELETE = "DELETE FROM scenarios WHERE id = ? AND session_id = ? RETURNING id"
_DROP_RESULTS = "DELETE FROM result_tables WHERE scenario_id = ?"
_DROP_RESULTS_IN_SESSION = (
    _DROP_RESULTS + " AND EXISTS (SELECT 1 FROM scenarios WHERE id = ? AND session_id = ?)"
)
_PUT_RESULTS = "INSERT INTO result_tables (scenario_id, data) VALUES (?, ?)"
_RESULTS = "SELECT data FROM result_tables WHERE scenario_id = ?"
_BY_STATUS = "SELECT status, count(*) FROM scenarios"
_BY_STATUS_GROUP = " GROUP BY status"
_OLDEST_QUEUED = f"SELECT min(queued_at) FROM scenarios WHERE status = '{_QUEUED}'"
#: Whether anything is queued at all: one probe of the queue index, by a reader.
_ANY_QUEUED = f"SELECT 1 FROM scenarios WHERE status = '{_QUEUED}'"
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


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def scenario_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Column values for the record fields in `fields`."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in SCENARIO.names:
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


class ScenarioRepository:
    """The `scenarios` and `result_tables` tables, and the queue they form."""

    db: Database

    # -- scenarios -----------------------------------------------------------
    def add_scenario(
        self, record: ScenarioRecord, *, below: int | None = None, latest: bool = False
    ) -> None:
        dialect = self.db.dialect
        values = self._encode(
            scenario_values({name: getattr(record, name) for name in SCENARIO.names})
        )
        # A bound on the table's rows, read with the dataset: while the whole table
        # holds fewer than `below` (SQLite's largest rowid says so in one probe), so
        # does the session, and nothing is counted (a count walks the session's
        # index entries: ~170 ns each, 1.7 ms per create in a session of 10,000).
        # In the write, with the dataset's check: no read of its own per create,
        # "11 create+run+complete, HTTP: SQLite / in memory" (benchmarks/
        # bench_scenarios.py).
        bound = dialect.scenario_rows_bound_sql if below is not None else None
        pin = record.dataset_version
        # With `latest`: the version the create pinned (as the store last saw it,
        # `latest_version_seen`) is still the dataset's latest, with its digest.
        params: tuple[Any, ...]
        if pin is None:
            version, params = "TRUE", ()
        elif latest:
            version, params = _IS_LATEST, (pin, record.dataset_digest, pin)
        else:
            version, params = _HAS_VERSION, (pin,)
        check = _DATASET_CHECK.format(version=version, bound=f"({bound})" if bound else "NULL")
        try:
            with dialect.transaction(self.db.engine) as run:
                # Its dataset version must exist, and the dataset stays locked until the
                # scenario is in: a delete or a pruning new version waits, then sees
                # the scenario pinned to the version and keeps it.
                # With its pinned version, in one statement (one fewer in the write
                # lock per create: "11 create+run+complete, HTTP: SQLite / in memory").
                session_id, key = record.session_id, record.dataset_key
                found = run(check + dialect.for_share, (*params, session_id, key))
                if not found:
                    if not run(_SESSION_EXISTS, (session_id,)):
                        raise NotFoundError(f"session {session_id!r} not found")
                    raise NotFoundError(f"dataset {key!r} not found")
                if not found[0][1]:
                    if latest:
                        raise LatestMoved
                    raise NotFoundError(f"dataset {key!r} has no version {pin}")
                rows_bound = found[0][2]
                if (
                    below is not None
                    and (rows_bound is None or rows_bound >= below)
                    and run(COUNT_IN_SESSION, (session_id,))[0][0] >= below
                ):
                    raise scenarios_full(below)
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
        """A scenario from a row of `SCENARIO.columns`."""
        return SCENARIO.decoder(self.db.dialect.decode_time)(row)

    def _scenarios(self, sql: str, params: tuple[Any, ...]) -> list[ScenarioRecord]:
        return [self._record(row) for row in self.db.dialect.query(self.db.engine, sql, params)]

    def delete_scenario(self, session_id: str, scenario_id: str) -> None:
        dialect = self.db.dialect
        with dialect.transaction(self.db.engine) as run:
            # The row first, locked (PostgreSQL): a concurrent `set_baseline` that
            # locked it first has committed its pin by the time the check reads.
            run(_EXISTS + dialect.for_update, (scenario_id,))
            pinned = run(_PINNED, (session_id, scenario_id))
            if pinned:
                raise baseline_pinned(pinned[0][0], scenario_id)
            run(_DROP_RESULTS_IN_SESSION, (scenario_id, scenario_id, session_id))
            if not run(_DELETE, (scenario_id, session_id)):
                raise NotFoundError(f"scenario {scenario_id!r} not found")

    def put_result_tables(self, scenario_id: str, tables: DataSource | None) -> None:
        with self.db.dialect.transaction(self.db.engine) as run:
            run(_DROP_RESULTS, (scenario_id,))
            if tables is not None and run(_EXISTS, (scenario_id,)):
                run(_PUT_RESULTS, (scenario_id, tables.to_arrow_bytes()))

    def get_result_tables(self, scenario_id: str) -> DataSource | None:
        rows = self.db.dialect.query(self.db.engine, _RESULTS, (scenario_id,))
        return DataSource.from_arrow_bytes(bytes(rows[0][0])) if rows else None

    def count_by_status(self, session_id: str | None = None) -> dict[ScenarioStatus, int]:
        if session_id is None:
            rows = self.db.dialect.query(self.db.engine, _BY_STATUS + _BY_STATUS_GROUP)
        else:
            sql = _BY_STATUS + " WHERE session_id = ?" + _BY_STATUS_GROUP
            rows = self.db.dialect.query(self.db.engine, sql, (session_id,))
        counts = dict.fromkeys(ScenarioStatus, 0)
        for status, count in rows:
            counts[ScenarioStatus(status)] = int(count)
        return counts

    def oldest_queued_at(self) -> datetime | None:
        rows = self.db.dialect.query(self.db.engine, _OLDEST_QUEUED)
        return self.db.dialect.decode_time(rows[0][0])

    # -- transitions and the run queue -----------------------------------------
    def apply_transition(self, scenario_id: str, transition: Transition) -> ScenarioRecord | None:
        return self.apply_transitions([(scenario_id, transition)])[0]

    def apply_transitions(
        self, moves: Sequence[tuple[str, Transition]]
    ) -> list[ScenarioRecord | None]:
        # Encoded before the write lock is taken: the lock is held for the writes only.
        tables = [None if t.tables is None else t.tables.to_arrow_bytes() for _, t in moves]
        try:
            if len(moves) == 1 and self._one_statement(moves[0][1], tables[0]):
                return [self._transition(self._alone, *moves[0], None)]
            with self.db.dialect.transaction(self.db.engine) as run:
                return [
                    self._transition(run, scenario_id, transition, encoded)
                    for (scenario_id, transition), encoded in zip(moves, tables, strict=True)
                ]
        except INTEGRITY_ERRORS:
            # A second processing scenario of the session's own: another claim won.
            if len(moves) == 1:
                return [None]
            return [self.apply_transition(*move) for move in moves]  # the others apply

    def _alone(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A `Run` of one statement in autocommit, its own write transaction
        (`SQLDialect.write`)."""
        return self.db.dialect.write(self.db.engine, sql, params)

    def _one_statement(self, transition: Transition, tables: bytes | None) -> bool:
        """Whether `_transition` writes `transition` in its UPDATE alone: no queue
        position to take, no result tables to drop or put, and the change appended
        by the database (`stores/sql/triggers.py`, which names the figure it buys)."""
        return (
            self.db.dialect.feeds_status_changes
            and tables is None
            and not transition.drops_results
            and transition.target is not S.QUEUED
        )

    def _transition(
        self, run: Run, scenario_id: str, transition: Transition, tables: bytes | None
    ) -> ScenarioRecord | None:
        """One move of `apply_transitions`, in its transaction."""
        sources = sorted(s.value for s in transition.source)
        if transition.target is S.QUEUED and S.QUEUED.value in sources:
            sources.remove(S.QUEUED.value)  # already in the queue: keep its place
        if not sources:
            return None
        values = self._encode(transition_values(transition))
        marks = ", ".join("?" * len(sources))
        where = f" WHERE id = ? AND status IN ({marks})"
        params: tuple[Any, ...] = (scenario_id, *sources)
        if transition.unless_cancel_requested:
            where += " AND cancel_requested = ?"
            params += (False,)
        where += f" RETURNING {_COLUMN_LIST}"
        if transition.target is S.QUEUED:
            values["queue_seq"] = run(self.db.dialect.next_position_sql)[0][0]
        if transition.drops_reports:
            values["reports"] = None
        rows = run(_update(values) + where, (*values.values(), *params))
        if rows and (transition.drops_results or tables is not None):
            run(_DROP_RESULTS, (scenario_id,))
        if rows and tables is not None:
            # A completion's tables, in the move's transaction (`Transition.tables`).
            run(_PUT_RESULTS, (scenario_id, tables))
        record = self._record(rows[0]) if rows else None
        if record is not None:
            self._append_move(run, record)
        return record

    def _append_move(self, run: Run, record: ScenarioRecord) -> None:
        """The change of `record`'s move to its status, in the move's transaction
        (the feed has every change, in order), unless the database wrote it with
        the move (`stores/sql/triggers.py`)."""
        if not self.db.dialect.feeds_status_changes:
            append_scenario(self.db, run, record)

    def claim_next(
        self, transition: Transition, *, expected: bool = False
    ) -> ScenarioRecord | None:
        claimed = self._claim(transition, 1, batch_only=False, expected=expected)
        return claimed[0] if claimed else None

    def claim_many(self, transition: Transition, count: int) -> list[ScenarioRecord]:
        return self._claim(transition, count, batch_only=True, expected=False)

    def _claim(
        self, transition: Transition, count: int, *, batch_only: bool, expected: bool
    ) -> list[ScenarioRecord]:
        """Up to `count` claims in one transaction (`claim_next`, `claim_many`)."""
        dialect = self.db.dialect
        # The next to run, claimed only if it is an experiment's (`batch_only`).
        only = " AND batch IS NOT NULL" if batch_only else ""
        # SQLite, nothing queued: no write transaction. The dispatcher looks once more
        # after each run's end, and finds the queue empty most of the time (runs
        # requested one by one); that look cost a write transaction (BEGIN IMMEDIATE,
        # the claim query, COMMIT: ~250 us of wall holding the file's one write lock)
        # and is now a read of microseconds. A scenario queued after this read wakes
        # the dispatcher itself (`Dispatcher.queued`; another process's, at the next
        # poll), as before. Not on PostgreSQL: there a read is a round trip more for
        # every claim that finds work, and an empty claim blocks no other writer.
        # Buys "11 create+run+complete, HTTP: SQLite / in memory" (see
        # benchmarks/bench_scenarios.py for the figures). Not when the caller was
        # told of a scenario queued since its last look (`expected`: a run request
        # of this process woke it): the look would find it, a read for nothing.
        if count < 1 or (
            dialect.locks_at_begin
            and not expected
            and not dialect.query(self.db.engine, f"{_ANY_QUEUED}{only} LIMIT 1")
        ):
            return []
        for _attempt in range(100):
            claimed: list[ScenarioRecord] = []
            try:
                if count == 1 and dialect.feeds_status_changes:
                    # The claim's UPDATE alone, in autocommit (`stores/sql/triggers.py`).
                    record = self._claim_one(self._alone, transition, only)
                    return [] if record is None else [record]
                with dialect.transaction(self.db.engine) as run:
                    while len(claimed) < count:
                        record = self._claim_one(run, transition, only)
                        if record is None:
                            break
                        claimed.append(record)
            except INTEGRITY_ERRORS:
                # Another worker claimed one of that session's own scenarios first;
                # it is committed now, so the next attempt no longer picks it.
                continue
            return claimed
        return []

    def _claim_one(self, run: Run, transition: Transition, only: str) -> ScenarioRecord | None:
        """Claim the next to run, in the caller's transaction."""
        dialect = self.db.dialect
        if dialect.locks_at_begin:
            # The transaction holds the write lock already: no run can finish
            # meanwhile, so the stamp is taken now and the pick and the claim are one
            # statement.
            values = self._encode(transition_values(transition))
            rows = run(
                f"{_update(values)} WHERE id = ({_CANDIDATE}) "
                f"AND status = '{_QUEUED}'{only} RETURNING {_COLUMN_LIST}",
                tuple(values.values()),
            )
        else:
            found = run(_CANDIDATE + dialect.skip_locked)
            if not found:
                return None
            # Stamped now, after the read that saw the session's previous run finish:
            # this start never comes before that run's end.
            values = self._encode(transition_values(transition))
            rows = run(
                f"{_update(values)} WHERE id = ? AND status = '{_QUEUED}'{only} "
                f"RETURNING {_COLUMN_LIST}",
                (*values.values(), found[0][0]),
            )
        if not rows:
            return None
        record = self._record(rows[0])
        self._append_move(run, record)
        return record

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

    def request_cancel(self, scenario_id: str, **fields: Any) -> bool:
        values = self._encode(scenario_values(fields | {"cancel_requested": True}))
        rows = self.db.dialect.write(
            self.db.engine,
            f"{_update(values)} WHERE id = ? AND status = '{_PROCESSING}' RETURNING id",
            (*values.values(), scenario_id),
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
        return self._scenarios(_EXPIRED, (self.db.dialect.encode_time(now),))

    def runs_held_by(self, owners: Iterable[str]) -> list[ScenarioRecord]:
        wanted = sorted(set(owners))
        if not wanted:
            return []
        marks = ", ".join("?" * len(wanted))
        return self._scenarios(
            f"SELECT {_COLUMN_LIST} FROM scenarios WHERE status = '{_PROCESSING}' "
            f"AND lease_owner IN ({marks}) ORDER BY position",
            tuple(wanted),
        )

    def active_owners(self) -> list[str]:
        return sorted(row[0] for row in self.db.dialect.query(self.db.engine, _ACTIVE_OWNERS))
