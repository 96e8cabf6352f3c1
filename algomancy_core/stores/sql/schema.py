"""The tables, their version, and the upgrade path between versions.

Migrations are hand-written functions, not Alembic scripts: the store opens (and
upgrades) its database itself, inside the transaction that checks the version, under
the dialect's start-up lock, from an installed wheel with no `alembic.ini` and no
migration folder to ship. With one layout version so far, Alembic would add a
dependency and an environment to configure for nothing it does better. See
docs/persistence.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from algomancy_core.errors import CoreError
from algomancy_core.names import name_key
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus

#: The layout this code writes. Bump it with a migration in `MIGRATIONS`.
SCHEMA_VERSION = 12

S = ScenarioStatus


class SchemaVersionError(CoreError, RuntimeError):
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


metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

#: Creation and queue order on PostgreSQL (SQLite counts in `meta`).
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
    # The session's item of a listing, `{"id": …, "display_name": …}` as JSON text,
    # written with the name: a listing of thousands concatenates these instead of
    # building an object per row (py-spy: building them was the bulk of GET /sessions).
    sa.Column("list_entry", sa.Text, nullable=False, server_default=""),
    # `names.name_key` of the display name: unique per owner, so that look-alike
    # names ("Week1", "week1") are one name whatever races between processes.
    sa.Column("name_key", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("owner", "display_name", name="uq_sessions_owner_name"),
    sa.Index("uq_sessions_owner_name_key", "owner", "name_key", unique=True),
    # Listings read an owner's sessions in order: found in order, not sorted.
    sa.Index("ix_sessions_owner_position", "owner", "position"),
    # ... and the whole listing from the index alone, without visiting the table.
    sa.Index("ix_sessions_owner_list", "owner", "position", "list_entry"),
)


#: Each session's pinned baseline scenario (at most one). A table of its own, made by
#: `create_all` on open, so older databases gain it without a layout migration.
baselines = sa.Table(
    "baselines",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("scenario_id", sa.String(64), nullable=False),
)


def list_entry(session_id: str, display_name: str) -> str:
    """A session's item of a listing as JSON text (the `list_entry` column)."""
    return orjson.dumps({"id": session_id, "display_name": display_name}).decode()


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
    # Empty since version 10: contents live in `dataset_blobs`, once per digest.
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    # `names.name_key` of the key, unique per session (see sessions.name_key).
    sa.Column("name_key", sa.Text, nullable=False, server_default=""),
    sa.Index("uq_datasets_session_name_key", "session_id", "name_key", unique=True),
)

#: The immutable versions of each dataset (version 10).
dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("version", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("digest", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("creator", sa.Text),
    sa.Column("classification", sa.String(32), nullable=False),
    sa.Column("tables", sa.Text, nullable=False),
    sa.Column("messages", sa.Text, nullable=False, server_default="[]"),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
)

#: Each distinct dataset content of a session, once, keyed by its digest (version 10).
dataset_blobs = sa.Table(
    "dataset_blobs",
    metadata,
    sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
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
    sa.Column("status", sa.String(16), nullable=False),
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
    sa.Column("data_parameters", sa.Text, nullable=False, server_default="{}"),
    sa.Column("dataset_version", sa.BigInteger),
    sa.Column("dataset_digest", sa.String(64)),
    sa.Column("seed", sa.BigInteger),
    sa.Column("lineage", sa.Text),
    sa.Column("fingerprint", sa.String(64)),
    #: The W3C trace context (JSON) of the request that queued the run.
    sa.Column("trace_context", sa.Text),
    sa.Column("position", sa.BigInteger, nullable=False),
    #: Place in the queue, taken whenever the scenario becomes queued.
    sa.Column("queue_seq", sa.BigInteger),
    # `names.name_key` of the tag, unique per session (see sessions.name_key).
    sa.Column("tag_key", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("session_id", "tag", name="uq_scenarios_session_tag"),
    sa.Index("uq_scenarios_session_tag_key", "session_id", "tag_key", unique=True),
    sa.Index("ix_scenarios_session_position", "session_id", "position"),
    sa.Index("ix_scenarios_fingerprint", "session_id", "fingerprint"),
    # A claim reads the queue session by session: each session's oldest queued row
    # is found, not sorted, and a busy session's whole queue is stepped over at once.
    sa.Index("ix_scenarios_queue", "status", "session_id", "queue_seq"),
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

#: The change feed (see `algomancy_core.changes`): one row per change of a session,
#: numbered in commit order, pruned to the latest `CHANGES_KEPT`. No foreign key: a
#: session's `session.deleted` outlives the session.
changes = sa.Table(
    "changes",
    metadata,
    # SQLite: an alias of the rowid, never reused (AUTOINCREMENT); PostgreSQL: bigserial.
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("session_id", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    # A stream's replay reads one session's changes after a seq.
    sa.Index("ix_changes_session_seq", "session_id", "seq"),
    sqlite_autoincrement=True,
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("user_name", sa.Text),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("session_id", sa.Text),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("client", sa.Text),
    sa.Column("outcome", sa.String(16), nullable=False),
    # Pruning and time ranges read this index; the user and session filters read
    # the rows (a table of `audit_retention_days` of writes): one index fewer to
    # write with every audited change.
    sa.Index("ix_audit_log_at", "at"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("claimed_by", sa.Text),
    sa.Column("claim_until", UTCDateTime),
    sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

#: Experiments (`algomancy_core.experiments`): the request, planned points and the
#: ids of their scenarios as JSON in `body`.
experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("session_id", "name", name="uq_experiments_session_name"),
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


def _index_the_queue(conn: Connection) -> None:
    """Version 2: the index a claim reads the queue through."""
    conn.execute(
        sa.text(
            "CREATE INDEX IF NOT EXISTS ix_scenarios_status_queue ON scenarios (status, queue_seq)"
        )
    )


def _index_the_session_list(conn: Connection) -> None:
    """Version 3: the index session listings read through."""
    conn.execute(
        sa.text(
            "CREATE INDEX IF NOT EXISTS ix_sessions_owner_position ON sessions (owner, position)"
        )
    )


def _add_data_parameters(conn: Connection) -> None:
    """Version 4: the values of a scenario's data parameters."""
    if "data_parameters" in {c["name"] for c in sa.inspect(conn).get_columns("scenarios")}:
        return
    conn.execute(
        sa.text("ALTER TABLE scenarios ADD COLUMN data_parameters TEXT NOT NULL DEFAULT '{}'")
    )


def _add_list_entries(conn: Connection) -> None:
    """Version 5: each session's listing item, and the index listings read it from."""
    if "list_entry" not in {c["name"] for c in sa.inspect(conn).get_columns("sessions")}:
        conn.execute(sa.text("ALTER TABLE sessions ADD COLUMN list_entry TEXT NOT NULL DEFAULT ''"))
    rows = conn.execute(sa.select(sessions.c.id, sessions.c.display_name)).all()
    if rows:
        conn.execute(
            sa.update(sessions)
            .where(sessions.c.id == sa.bindparam("sid"))
            .values(list_entry=sa.bindparam("entry")),
            [{"sid": id_, "entry": list_entry(id_, name)} for id_, name in rows],
        )
    conn.execute(
        sa.text(
            "CREATE INDEX IF NOT EXISTS ix_sessions_owner_list "
            "ON sessions (owner, position, list_entry)"
        )
    )


def _index_the_queue_by_session(conn: Connection) -> None:
    """Version 6: the queue read session by session (`ix_scenarios_queue`), in place
    of the indexes on status alone and on (status, queue_seq): one index fewer to
    write with each change of status."""
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_scenarios_status"))
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_scenarios_status_queue"))
    conn.execute(
        sa.text(
            "CREATE INDEX IF NOT EXISTS ix_scenarios_queue "
            "ON scenarios (status, session_id, queue_seq)"
        )
    )


#: The suffix migration 7 gives the key of a name that collides with an older one
#: (followed by the row's id): no name's key holds a control character.
COLLISION_MARK = "\x01"

#: Table, scope column, name column, key column, row id column of each unique name.
_NAMED = (
    ("sessions", "owner", "display_name", "name_key", "id"),
    ("datasets", "session_id", "key", "name_key", "key"),
    ("scenarios", "session_id", "tag", "tag_key", "id"),
)


def _add_name_keys(conn: Connection) -> None:
    """Version 7: each name's `names.name_key`, unique in its scope (an owner's
    sessions, a session's datasets and tags). Rows whose names collide once
    normalised (written before the rule) are all kept, under their names: the
    oldest keeps the plain key, each later one gets `COLLISION_MARK` and its id
    appended, which no new name can match."""
    for table, scope, name, key, row_id in _NAMED:
        if key not in {c["name"] for c in sa.inspect(conn).get_columns(table)}:
            conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {key} TEXT NOT NULL DEFAULT ''"))
        rows = conn.execute(
            sa.text(f"SELECT {scope}, {name}, {row_id} FROM {table} ORDER BY position")
        ).all()
        taken: set[tuple[str, str]] = set()
        updates = []
        for scope_value, name_value, id_value in rows:
            normal = name_key(name_value)
            if (scope_value, normal) in taken:
                normal = f"{normal}{COLLISION_MARK}{id_value}"
            taken.add((scope_value, normal))
            updates.append({"s": scope_value, "i": id_value, "k": normal})
        if updates:
            conn.execute(
                sa.text(f"UPDATE {table} SET {key} = :k WHERE {scope} = :s AND {row_id} = :i"),
                updates,
            )
        conn.execute(
            sa.text(
                f"CREATE UNIQUE INDEX IF NOT EXISTS uq_{table}_{scope.split('_')[0]}_{key} "
                f"ON {table} ({scope}, {key})"
            )
        )


def _add_the_change_feed(conn: Connection) -> None:
    """Version 8: the `changes` table session streams follow."""
    changes.create(conn, checkfirst=True)


def _add_audit_and_deliveries(conn: Connection) -> None:
    """Version 9: the audit trail and the webhook delivery queue."""
    audit_log.create(conn, checkfirst=True)
    webhook_deliveries.create(conn, checkfirst=True)


_SCENARIO_PINS = {
    "dataset_version": "BIGINT",
    "dataset_digest": "VARCHAR(64)",
    "seed": "BIGINT",
    "lineage": "TEXT",
    "fingerprint": "VARCHAR(64)",
}


def _version_datasets(conn: Connection) -> None:
    """Version 10: immutable dataset versions. Each dataset becomes its version 1
    (its digest computed, its content moved to `dataset_blobs`); a scenario added
    after the dataset's last write (a later `position`: both come from one counter)
    provably used it and is pinned to version 1; an older one may have run on data
    since replaced, and is marked as of unknown lineage."""
    from algomancy_core.lineage import unknown_lineage
    from algomancy_data import DataSource, content_digest

    present = {c["name"] for c in sa.inspect(conn).get_columns("scenarios")}
    for name, kind in _SCENARIO_PINS.items():
        if name not in present:
            conn.execute(sa.text(f"ALTER TABLE scenarios ADD COLUMN {name} {kind}"))
    dataset_versions.create(conn, checkfirst=True)
    dataset_blobs.create(conn, checkfirst=True)
    rows = conn.execute(
        sa.select(
            datasets.c.session_id,
            datasets.c.key,
            datasets.c.classification,
            datasets.c.created_at,
            datasets.c.tables,
            datasets.c.position,
        )
    ).all()
    for session_id, key, classification, created_at, tables, position in rows:
        payload = conn.execute(
            sa.select(datasets.c.data).where(
                datasets.c.session_id == session_id, datasets.c.key == key
            )
        ).scalar_one()
        if not payload:  # versioned already (a database rewound by hand)
            continue
        data = DataSource.from_arrow_bytes(bytes(payload))
        digest = content_digest(data)
        known = conn.execute(
            sa.select(dataset_blobs.c.digest).where(
                dataset_blobs.c.session_id == session_id, dataset_blobs.c.digest == digest
            )
        ).first()
        if known is None:
            conn.execute(
                sa.insert(dataset_blobs).values(session_id=session_id, digest=digest, data=payload)
            )
        conn.execute(
            sa.insert(dataset_versions).values(
                session_id=session_id,
                key=key,
                version=1,
                digest=digest,
                created_at=created_at,
                creator=None,
                classification=classification,
                tables=tables,
                messages="[]",
                name=data.name,
            )
        )
        conn.execute(
            sa.update(datasets)
            .where(datasets.c.session_id == session_id, datasets.c.key == key)
            .values(data=b"")
        )
        same = (scenarios.c.session_id == session_id) & (scenarios.c.dataset_key == key)
        proven = {"known": True, "dataset_key": key, "dataset_version": 1, "migrated": True}
        proven["dataset_digest"] = digest
        conn.execute(
            sa.update(scenarios)
            .where(same, scenarios.c.position > position)
            .values(dataset_version=1, dataset_digest=digest, lineage=orjson.dumps(proven).decode())
        )
        conn.execute(
            sa.update(scenarios)
            .where(same, scenarios.c.position <= position)
            .values(lineage=orjson.dumps(unknown_lineage(key)).decode())
        )
    conn.execute(
        sa.text(
            "CREATE INDEX IF NOT EXISTS ix_scenarios_fingerprint "
            "ON scenarios (session_id, fingerprint)"
        )
    )


def _add_trace_context(conn: Connection) -> None:
    """Version 11: the trace context of the request that queued a run, so that
    whichever process claims it continues the request's trace."""
    present = {c["name"] for c in sa.inspect(conn).get_columns("scenarios")}
    if "trace_context" not in present:
        conn.execute(sa.text("ALTER TABLE scenarios ADD COLUMN trace_context TEXT"))


def _add_experiments(conn: Connection) -> None:
    """Version 12: the `experiments` table."""
    experiments.create(conn, checkfirst=True)


#: Upgrades from version n-1 to n, run in order inside one transaction on open.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    2: _index_the_queue,
    3: _index_the_session_list,
    4: _add_data_parameters,
    5: _add_list_entries,
    6: _index_the_queue_by_session,
    7: _add_name_keys,
    8: _add_the_change_feed,
    9: _add_audit_and_deliveries,
    10: _version_datasets,
    11: _add_trace_context,
    12: _add_experiments,
}

#: Record fields, in declaration order; also the scenario columns read back.
FIELDS = tuple(ScenarioRecord.__dataclass_fields__)


def open_schema(conn: Connection, where: str) -> None:
    """Create or upgrade the tables in the open write transaction `conn`; refuse a
    layout newer than this code (`where` names the database in the error)."""
    recorded: Any = None
    if sa.inspect(conn).has_table(meta.name):
        recorded = conn.execute(
            sa.select(meta.c.value).where(meta.c.name == "schema_version")
        ).scalar_one_or_none()
    if recorded is not None and recorded > SCHEMA_VERSION:
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
            sa.update(meta).where(meta.c.name == "schema_version").values(value=SCHEMA_VERSION)
        )
