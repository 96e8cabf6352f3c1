"""`SQLStore`: sessions, datasets and scenarios in SQLite or PostgreSQL.

SQLAlchemy Core, no ORM: every method is one short transaction, and every write that
must not race is a single conditional statement (`UPDATE … WHERE status IN …`), so
several threads and several processes share one state safely. The layout, the
SQLite settings and the upgrade path are described in docs/persistence.md.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine

from algomancy_core.errors import (
    AlgomancyError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
)
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, Transition, utcnow
from algomancy_core.stores.base import DatasetInfo, SessionRecord
from algomancy_data import DataSource

#: The layout this code writes. Bump it with a migration in `MIGRATIONS`.
SCHEMA_VERSION = 1

#: Pooled SQLite connections kept open.
SQLITE_POOL_SIZE = 40

#: Seconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT = 30.0

#: Decoded datasets kept per store; a dataset is decoded once per process and version.
DATASET_CACHE_SIZE = 8

S = ScenarioStatus


class SchemaVersionError(AlgomancyError, RuntimeError):
    """The database was written by a newer Algomancy than this one."""


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite keeps no offset, so values are written as UTC and read back with UTC
    attached; PostgreSQL (`timestamptz`) answers in the session zone, converted back.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL. The switch needs the file to itself and SQLite does
    not wait for it on busy_timeout, so workers opening a new file together (gunicorn
    -w N) would fail "database is locked": retry until the busy timeout instead."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

#: Creation and queue order on PostgreSQL (SQLite counts in `meta`, see `_next_position`).
position_seq = sa.Sequence("algomancy_position_seq", metadata=metadata)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    # '' stands for "no owner": NULLs never collide in a unique constraint.
    sa.Column("owner", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("owner", "display_name", name="uq_sessions_owner_name"),
)

datasets = sa.Table(
    "datasets",
    metadata,
    sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("classification", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("tables", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
)

scenarios = sa.Table(
    "scenarios",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("tag", sa.Text, nullable=False),
    sa.Column("dataset_key", sa.Text, nullable=False),
    sa.Column("algorithm", sa.Text, nullable=False),
    sa.Column("parameters", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("progress", sa.Float, nullable=False),
    sa.Column("progress_message", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("result", sa.Text),
    sa.Column("kpis", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("queued_at", UTCDateTime),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_expires_at", UTCDateTime),
    sa.Column("cancel_requested", sa.Boolean, nullable=False),
    sa.Column("timeout", sa.Float),
    sa.Column("position", sa.BigInteger, nullable=False),
    #: Place in the queue, taken whenever the scenario becomes queued.
    sa.Column("queue_seq", sa.BigInteger),
    sa.UniqueConstraint("session_id", "tag", name="uq_scenarios_session_tag"),
    sa.Index("ix_scenarios_session_position", "session_id", "position"),
)

result_tables = sa.Table(
    "result_tables",
    metadata,
    sa.Column(
        "scenario_id",
        sa.String(64),
        sa.ForeignKey("scenarios.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

# The database itself refuses a second processing scenario in a session, whatever
# races between processes; a claim that loses on it moves on to the next candidate.
sa.Index(
    "uq_scenarios_one_processing",
    scenarios.c.session_id,
    unique=True,
    sqlite_where=scenarios.c.status == S.PROCESSING.value,
    postgresql_where=scenarios.c.status == S.PROCESSING.value,
)

#: Upgrades from version n-1 to n, run in order inside one transaction on open.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}

_JSON_FIELDS = frozenset({"parameters", "result", "kpis"})
_FIELDS = tuple(f for f in ScenarioRecord.__dataclass_fields__)


def normalize_url(url: str) -> str:
    """`url` with PostgreSQL pointed at psycopg 3 (`postgresql://` → `+psycopg`)."""
    parsed = sa.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


AnyRow = sa.Row[*tuple[Any, ...]]


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _scenario_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Column values for the record fields in `fields`."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in _FIELDS:
            raise ValueError(f"a scenario has no field {name!r}")
        if name in _JSON_FIELDS:
            values[name] = _dumps(value)
        elif name == "status":
            values[name] = ScenarioStatus(value).value
        else:
            values[name] = value
    return values


def _transition_values(transition: Transition) -> dict[str, Any]:
    """Column values a transition writes, its stamped fields set to now."""
    changes = transition.changes
    if transition.stamped:
        changes = changes | dict.fromkeys(transition.stamped, utcnow())
    return _scenario_values(changes)


def _scenario(row: AnyRow) -> ScenarioRecord:
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


def _session(row: AnyRow) -> SessionRecord:
    m = row._mapping
    return SessionRecord(
        id=m["id"],
        display_name=m["display_name"],
        created_at=m["created_at"],
        owner=m["owner"] or None,
    )


_SESSION_COLUMNS = (sessions.c.id, sessions.c.display_name, sessions.c.owner, sessions.c.created_at)
_SESSION_BY_ID = sa.select(*_SESSION_COLUMNS).where(sessions.c.id == sa.bindparam("id"))
_SESSION_BY_NAME = sa.select(*_SESSION_COLUMNS).where(
    sessions.c.owner == sa.bindparam("owner"), sessions.c.display_name == sa.bindparam("name")
)
_SCENARIO_COLUMNS = tuple(scenarios.c[name] for name in _FIELDS)
# The statements of the hot reads, built once: building a select costs more than
# running it on SQLite.
_SCENARIO_BY_ID = sa.select(*_SCENARIO_COLUMNS).where(scenarios.c.id == sa.bindparam("id"))
_PROCESSING = S.PROCESSING.value
_QUEUED = S.QUEUED.value
#: The queued scenario a claim considers, next to `scenarios` in its NOT EXISTS test.
_other = scenarios.alias("candidate")


class SQLStore:
    """A store in a SQL database: a SQLite file (one host) or PostgreSQL (many).

    `data_object_type` is the `DataSource` subclass datasets are rebuilt as.
    """

    shared = True

    def __init__(
        self,
        url: str,
        *,
        data_path: Path | str | None = None,
        data_object_type: type[DataSource] = DataSource,
    ) -> None:
        self.url = normalize_url(url)
        self.data_object_type = data_object_type
        parsed = sa.make_url(self.url)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        self._postgres = parsed.get_backend_name() == "postgresql"
        if self._sqlite:
            self.engine = self._sqlite_engine(parsed, data_path)
        else:
            # Room for the dispatcher, its runners and the API's request threads.
            self.engine = sa.create_engine(
                self.url, pool_pre_ping=True, pool_size=10, max_overflow=20
            )
        self._cache: OrderedDict[tuple[str, str, int], DataSource] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._read_turn: contextlib.AbstractContextManager[object] = (
            contextlib.nullcontext() if self._postgres else threading.Lock()
        )
        try:
            self._open_schema()
        except BaseException:
            self.engine.dispose()
            raise

    # -- connections ---------------------------------------------------------
    @staticmethod
    def _sqlite_engine(url: sa.URL, data_path: Path | str | None) -> Engine:
        database = url.database
        if not database or database == ":memory:":
            # Each pooled connection would get a database of its own.
            raise ConfigurationError(
                "database_url: a SQLite store needs a file path; "
                "leave has_persistent_state off for state in memory"
            )
        if data_path is not None:
            Path(data_path).mkdir(parents=True, exist_ok=True)
        if not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT},
            # As many as the server's thread pool runs at once (40): a connection
            # made and dropped per request costs more than the query (PRAGMAs, WAL).
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=10,
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
            # pysqlite's own BEGIN handling is off: SQLAlchemy's "begin" event
            # emits it, so writers can ask for BEGIN IMMEDIATE (documented recipe).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT * 1000)}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            # Deleted rows are overwritten with zeros, not left readable in free pages.
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            # A writer takes the lock up front: a deferred transaction that reads
            # first and writes later cannot wait for the lock and fails "locked".
            write = connection.get_execution_options().get("algomancy_write", False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(algomancy_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        # SQLite reads are short and CPU-bound in this process: taking turns beats
        # dozens of threads trading the GIL on every step (2-3x the throughput).
        with self._read_turn, self.engine.connect() as conn, conn.begin():
            yield conn

    def _open_schema(self) -> None:
        """Create or upgrade the tables; refuse a layout newer than this code."""
        with self._write() as conn:
            if self._postgres:
                # Serialise the first open of several workers at once.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7263451901)"))
            recorded = None
            if sa.inspect(conn).has_table(meta.name):
                recorded = conn.execute(
                    sa.select(meta.c.value).where(meta.c.name == "schema_version")
                ).scalar_one_or_none()
            if recorded is not None and recorded > SCHEMA_VERSION:
                where = self.engine.url.render_as_string(hide_password=True)
                raise SchemaVersionError(
                    f"the database at {where} has schema version {recorded}, newer than "
                    f"this Algomancy's {SCHEMA_VERSION}; upgrade Algomancy to open it "
                    "(see docs/persistence.md)"
                )
            if recorded is not None:
                for version in range(recorded + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[version](conn)
            metadata.create_all(conn, checkfirst=True)
            if recorded is None:
                conn.execute(sa.insert(meta).values(name="schema_version", value=SCHEMA_VERSION))
                conn.execute(sa.insert(meta).values(name="position", value=0))
            elif recorded < SCHEMA_VERSION:
                conn.execute(
                    sa.update(meta)
                    .where(meta.c.name == "schema_version")
                    .values(value=SCHEMA_VERSION)
                )

    def _next_position(self, conn: Connection) -> int:
        """A number greater than every one handed out before (creation/queue order)."""
        if self._postgres:
            return int(conn.execute(sa.select(position_seq.next_value())).scalar_one())
        # SQLite writers hold the database lock, so a counter row is race-free.
        return int(
            conn.execute(
                sa.update(meta)
                .where(meta.c.name == "position")
                .values(value=meta.c.value + 1)
                .returning(meta.c.value)
            ).scalar_one()
        )

    # -- sessions ------------------------------------------------------------
    def create_session(self, record: SessionRecord) -> None:
        try:
            with self._write() as conn:
                if self._find_session(conn, record.display_name, record.owner) is not None:
                    raise ConflictError(f"a session named {record.display_name!r} already exists")
                conn.execute(
                    sa.insert(sessions).values(
                        id=record.id,
                        display_name=record.display_name,
                        owner=record.owner or "",
                        created_at=record.created_at,
                        position=self._next_position(conn),
                    )
                )
        except sa.exc.IntegrityError:
            raise ConflictError(f"a session named {record.display_name!r} already exists") from None

    def get_session(self, session_id: str) -> SessionRecord | None:
        with self._read() as conn:
            row = conn.execute(_SESSION_BY_ID, {"id": session_id}).first()
        return None if row is None else _session(row)

    @staticmethod
    def _find_session(
        conn: Connection, display_name: str, owner: str | None
    ) -> SessionRecord | None:
        row = conn.execute(_SESSION_BY_NAME, {"owner": owner or "", "name": display_name}).first()
        return None if row is None else _session(row)

    def find_session(self, display_name: str, owner: str | None) -> SessionRecord | None:
        with self._read() as conn:
            return self._find_session(conn, display_name, owner)

    def list_sessions(self, owner: str | None) -> list[SessionRecord]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(*_SESSION_COLUMNS)
                .where(sessions.c.owner == (owner or ""))
                .order_by(sessions.c.position)
            ).all()
        return [_session(row) for row in rows]

    def count_sessions(self, owner: str | None) -> int:
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(sessions)
                    .where(sessions.c.owner == (owner or ""))
                ).scalar_one()
            )

    def rename_session(self, session_id: str, display_name: str) -> SessionRecord:
        try:
            with self._write() as conn:
                row = conn.execute(
                    sa.update(sessions)
                    .where(sessions.c.id == session_id)
                    .values(display_name=display_name)
                    .returning(*_SESSION_COLUMNS)
                ).first()
                if row is None:
                    raise NotFoundError(f"session {session_id!r} not found")
                return _session(row)
        except sa.exc.IntegrityError:
            raise ConflictError(f"a session named {display_name!r} already exists") from None

    def delete_session(self, session_id: str) -> None:
        with self._write() as conn:
            # Explicit deletes: no reliance on the backend enforcing ON DELETE CASCADE.
            owned = sa.select(scenarios.c.id).where(scenarios.c.session_id == session_id)
            conn.execute(sa.delete(result_tables).where(result_tables.c.scenario_id.in_(owned)))
            conn.execute(sa.delete(scenarios).where(scenarios.c.session_id == session_id))
            conn.execute(sa.delete(datasets).where(datasets.c.session_id == session_id))
            deleted = conn.execute(sa.delete(sessions).where(sessions.c.id == session_id))
            if deleted.rowcount == 0:
                raise NotFoundError(f"session {session_id!r} not found")
        self._forget(session_id)
        self._scrub()

    def _require_session(self, conn: Connection, session_id: str) -> None:
        found = conn.execute(sa.select(sessions.c.id).where(sessions.c.id == session_id)).first()
        if found is None:
            raise NotFoundError(f"session {session_id!r} not found")

    # -- datasets ------------------------------------------------------------
    def put_dataset(
        self, session_id: str, key: str, data: DataSource, *, replace: bool = False
    ) -> None:
        payload = data.to_arrow_bytes()
        tables = {name: len(data.get_table(name)) for name in data.list_tables()}
        with self._write() as conn:
            self._require_session(conn, session_id)
            where = (datasets.c.session_id == session_id) & (datasets.c.key == key)
            if conn.execute(sa.select(datasets.c.key).where(where)).first() is not None:
                if not replace:
                    raise ConflictError(f"dataset {key!r} already exists")
                conn.execute(sa.delete(datasets).where(where))
            conn.execute(
                sa.insert(datasets).values(
                    session_id=session_id,
                    key=key,
                    classification=str(data.classification),
                    created_at=data.created_at,
                    tables=json.dumps(tables),
                    data=payload,
                    position=self._next_position(conn),
                )
            )
        self._forget(session_id, key)

    def get_dataset(self, session_id: str, key: str) -> DataSource:
        where = (datasets.c.session_id == session_id) & (datasets.c.key == key)
        with self._read() as conn:
            position = conn.execute(sa.select(datasets.c.position).where(where)).scalar()
            if position is None:
                raise NotFoundError(f"dataset {key!r} not found")
            cache_key = (session_id, key, int(position))
            with self._cache_lock:
                cached = self._cache.get(cache_key)
                if cached is not None:
                    self._cache.move_to_end(cache_key)
                    return cached
            payload = conn.execute(
                sa.select(datasets.c.data).where(where, datasets.c.position == position)
            ).scalar()
        if payload is None:  # replaced between the two reads: start over
            return self.get_dataset(session_id, key)
        data = self.data_object_type.from_arrow_bytes(bytes(payload))
        with self._cache_lock:
            self._cache[cache_key] = data
            while len(self._cache) > DATASET_CACHE_SIZE:
                self._cache.popitem(last=False)
        return data

    def _forget(self, session_id: str, key: str | None = None) -> None:
        with self._cache_lock:
            for cached in list(self._cache):
                if cached[0] == session_id and (key is None or cached[1] == key):
                    del self._cache[cached]

    def dataset_info(self, session_id: str, key: str) -> DatasetInfo:
        with self._read() as conn:
            row = conn.execute(
                sa.select(
                    datasets.c.classification, datasets.c.created_at, datasets.c.tables
                ).where(datasets.c.session_id == session_id, datasets.c.key == key)
            ).first()
        if row is None:
            raise NotFoundError(f"dataset {key!r} not found")
        return DatasetInfo(
            key=key,
            classification=row.classification,
            created_at=row.created_at,
            tables=json.loads(row.tables),
        )

    def list_datasets(self, session_id: str) -> list[str]:
        with self._read() as conn:
            return list(
                conn.execute(
                    sa.select(datasets.c.key)
                    .where(datasets.c.session_id == session_id)
                    .order_by(datasets.c.position)
                ).scalars()
            )

    def delete_dataset(self, session_id: str, key: str) -> None:
        with self._write() as conn:
            where = (datasets.c.session_id == session_id) & (datasets.c.key == key)
            if conn.execute(sa.select(datasets.c.key).where(where)).first() is None:
                raise NotFoundError(f"dataset {key!r} not found")
            users = conn.execute(
                sa.select(scenarios.c.tag).where(
                    scenarios.c.session_id == session_id, scenarios.c.dataset_key == key
                )
            ).scalars()
            tags = sorted(users)
            if tags:
                raise ConflictError(
                    f"dataset {key!r} is used by scenario(s) {', '.join(tags)}; delete them first"
                )
            conn.execute(sa.delete(datasets).where(where))
        self._forget(session_id, key)
        self._scrub()

    def _scrub(self) -> None:
        """After a delete: copy the write-ahead log into the database file and empty it,
        so the deleted data's old page images leave the disk too (SQLite; PostgreSQL
        reclaims dead rows with its own VACUUM)."""
        if self._postgres:
            return
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            # Busy readers only delay it: what stays behind goes at the next scrub.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()

    # -- scenarios -----------------------------------------------------------
    def add_scenario(self, record: ScenarioRecord) -> None:
        fields = {name: getattr(record, name) for name in _FIELDS}
        try:
            with self._write() as conn:
                self._require_session(conn, record.session_id)
                taken = conn.execute(
                    sa.select(scenarios.c.id).where(
                        scenarios.c.session_id == record.session_id,
                        scenarios.c.tag == record.tag,
                    )
                ).first()
                if taken is not None:
                    raise ConflictError(f"a scenario tagged {record.tag!r} already exists")
                position = self._next_position(conn)
                queued = record.status is S.QUEUED
                conn.execute(
                    sa.insert(scenarios).values(
                        **_scenario_values(fields),
                        position=position,
                        queue_seq=position if queued else None,
                    )
                )
        except sa.exc.IntegrityError:
            raise ConflictError(f"a scenario tagged {record.tag!r} already exists") from None

    def get_scenario(self, session_id: str, scenario_id: str) -> ScenarioRecord | None:
        with self._read() as conn:
            row = conn.execute(_SCENARIO_BY_ID, {"id": scenario_id}).first()
        if row is None or row.session_id != session_id:
            return None
        return _scenario(row)

    def get_scenario_by_id(self, scenario_id: str) -> ScenarioRecord | None:
        with self._read() as conn:
            row = conn.execute(_SCENARIO_BY_ID, {"id": scenario_id}).first()
        return None if row is None else _scenario(row)

    def list_scenarios(self, session_id: str) -> list[ScenarioRecord]:
        return self._select_scenarios(scenarios.c.session_id == session_id)

    def _select_scenarios(self, *where: sa.ColumnElement[bool]) -> list[ScenarioRecord]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(*_SCENARIO_COLUMNS).where(*where).order_by(scenarios.c.position)
            ).all()
        return [_scenario(row) for row in rows]

    def delete_scenario(self, session_id: str, scenario_id: str) -> None:
        with self._write() as conn:
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
        with self._write() as conn:
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
        with self._read() as conn:
            payload = conn.execute(
                sa.select(result_tables.c.data).where(result_tables.c.scenario_id == scenario_id)
            ).scalar()
        return None if payload is None else DataSource.from_arrow_bytes(bytes(payload))

    def apply_transition(self, scenario_id: str, transition: Transition) -> ScenarioRecord | None:
        sources = set(transition.source)
        if transition.target is S.QUEUED:
            sources.discard(S.QUEUED)  # already in the queue: keep its place
        if not sources:
            return None
        try:
            with self._write() as conn:
                values = _transition_values(transition)
                if transition.target is S.QUEUED:
                    values["queue_seq"] = self._next_position(conn)
                row = conn.execute(
                    sa.update(scenarios)
                    .where(
                        scenarios.c.id == scenario_id,
                        scenarios.c.status.in_([s.value for s in sources]),
                    )
                    .values(**values, version=scenarios.c.version + 1)
                    .returning(*_SCENARIO_COLUMNS)
                ).first()
                if row is not None and transition.drops_results:
                    conn.execute(
                        sa.delete(result_tables).where(result_tables.c.scenario_id == scenario_id)
                    )
        except sa.exc.IntegrityError:
            # A second processing scenario in the session: another claim won.
            return None
        return None if row is None else _scenario(row)

    def claim_next(self, transition: Transition) -> ScenarioRecord | None:
        busy = sa.select(sa.literal(1)).where(
            scenarios.c.session_id == _other.c.session_id, scenarios.c.status == _PROCESSING
        )
        candidate = (
            sa.select(_other.c.id)
            .where(_other.c.status == _QUEUED, ~busy.exists())
            .order_by(_other.c.queue_seq)
            .limit(1)
        )
        if self._postgres:
            # Skip rows another worker is claiming right now instead of queueing behind it.
            candidate = candidate.with_for_update(skip_locked=True, of=_other)
        for _attempt in range(100):
            try:
                with self._write() as conn:
                    scenario_id = conn.execute(candidate).scalar()
                    if scenario_id is None:
                        return None
                    values = _transition_values(transition)
                    row = conn.execute(
                        sa.update(scenarios)
                        .where(scenarios.c.id == scenario_id, scenarios.c.status == _QUEUED)
                        .values(**values, version=scenarios.c.version + 1)
                        .returning(*_SCENARIO_COLUMNS)
                    ).first()
            except sa.exc.IntegrityError:
                # Another worker claimed a scenario of that session first; it is
                # committed now, so the next attempt no longer picks this session.
                continue
            if row is not None:
                return _scenario(row)
        return None

    def update_progress(self, scenario_id: str, progress: float, message: str | None) -> None:
        with self._write() as conn:
            conn.execute(
                sa.update(scenarios)
                .where(scenarios.c.id == scenario_id, scenarios.c.status == _PROCESSING)
                .values(
                    progress=progress,
                    progress_message=message,
                    version=scenarios.c.version + 1,
                )
            )

    def request_cancel(self, scenario_id: str) -> None:
        with self._write() as conn:
            conn.execute(
                sa.update(scenarios)
                .where(scenarios.c.id == scenario_id, scenarios.c.status == _PROCESSING)
                .values(cancel_requested=True, version=scenarios.c.version + 1)
            )

    def renew_leases(self, owner: str, lease_until: datetime) -> list[ScenarioRecord]:
        # No version bump: a renewal changes nothing a poller shows.
        with self._write() as conn:
            rows = conn.execute(
                sa.update(scenarios)
                .where(scenarios.c.lease_owner == owner, scenarios.c.status == _PROCESSING)
                .values(lease_expires_at=lease_until)
                .returning(*_SCENARIO_COLUMNS)
            ).all()
        return [_scenario(row) for row in rows]

    def expired_runs(self, now: datetime) -> list[ScenarioRecord]:
        return self._select_scenarios(
            scenarios.c.status == _PROCESSING,
            scenarios.c.lease_expires_at.is_not(None),
            scenarios.c.lease_expires_at < now,
        )

    def runs_held_by(self, owners: Iterable[str]) -> list[ScenarioRecord]:
        wanted = sorted(set(owners))
        if not wanted:
            return []
        return self._select_scenarios(
            scenarios.c.status == _PROCESSING, scenarios.c.lease_owner.in_(wanted)
        )

    def active_owners(self) -> list[str]:
        with self._read() as conn:
            owners = conn.execute(
                sa.select(scenarios.c.lease_owner)
                .distinct()
                .where(scenarios.c.status == _PROCESSING, scenarios.c.lease_owner.is_not(None))
            ).scalars()
            return sorted(owners)

    def count_by_status(self, session_id: str | None = None) -> dict[ScenarioStatus, int]:
        query = sa.select(scenarios.c.status, sa.func.count()).group_by(scenarios.c.status)
        if session_id is not None:
            query = query.where(scenarios.c.session_id == session_id)
        counts = dict.fromkeys(ScenarioStatus, 0)
        with self._read() as conn:
            for status, count in conn.execute(query):
                counts[ScenarioStatus(status)] = int(count)
        return counts

    def has_queued(self) -> bool:
        with self._read() as conn:
            found = conn.execute(
                sa.select(scenarios.c.id).where(scenarios.c.status == _QUEUED).limit(1)
            ).first()
        return found is not None

    def close(self) -> None:
        """Release every pooled connection."""
        with self._cache_lock:
            self._cache.clear()
        self.engine.dispose()
