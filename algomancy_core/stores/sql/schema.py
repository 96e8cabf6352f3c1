"""The tables and their version; the upgrade path between versions is in
`migrations.py`.

Migrations are hand-written functions, not Alembic scripts: the store opens (and
upgrades) its database itself, inside the transaction that checks the version, under
the dialect's start-up lock, from an installed wheel with no `alembic.ini` and no
migration folder to ship. With one layout version so far, Alembic would add a
dependency and an environment to configure for nothing it does better. See
docs/persistence.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from algomancy_core.errors import CoreError
from algomancy_core.scenario import ScenarioStatus

#: The layout this code writes. Bump it with a migration in `MIGRATIONS`.
SCHEMA_VERSION = 16

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
    # Unused since the listing shape left the store (was: each session's listing
    # item as JSON text). Kept, '' in new rows, so that no migration drops a column
    # from a live database; nothing reads it.
    sa.Column("list_entry", sa.Text, nullable=False, server_default=""),
    # `names.name_key` of the display name: unique per owner, so that look-alike
    # names ("Week1", "week1") are one name whatever races between processes.
    sa.Column("name_key", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("owner", "display_name", name="uq_sessions_owner_name"),
    sa.Index("uq_sessions_owner_name_key", "owner", "name_key", unique=True),
    # Listings read an owner's sessions in order: found in order, not sorted.
    sa.Index("ix_sessions_owner_position", "owner", "position"),
    # Made with `list_entry` (version 5); kept with it.
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


def session_column(*, primary_key: bool = False) -> sa.Column[str]:
    """The `session_id` of a table whose rows belong to a session: never null, and
    deleted with the session."""
    return sa.Column(
        "session_id",
        sa.String(64),
        sa.ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


datasets = sa.Table(
    "datasets",
    metadata,
    session_column(primary_key=True),
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
    session_column(primary_key=True),
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
    session_column(primary_key=True),
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

scenarios = sa.Table(
    "scenarios",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    session_column(),
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
    #: The batch it runs in (`"experiment:<id>"`), NULL for the session's own
    #: (version 13): batch scenarios run in parallel, the session's own one at a time.
    sa.Column("batch", sa.Text),
    #: True when the latest run was pruned (`ScenarioRecord.pruned`).
    sa.Column("pruned", sa.Boolean, nullable=False, server_default=sa.false()),
    #: The latest run's intermediate values, `[[step, value], ...]` as JSON (or NULL).
    sa.Column("reports", sa.Text),
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
    # of its own (batch NULL) is found, not sorted, and a busy session's whole queue
    # is stepped over at once (version 13 added `batch`, before `queue_seq`).
    sa.Index("ix_scenarios_queue", "status", "session_id", "batch", "queue_seq"),
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

#: Experiments (`algomancy_core.experiments`): the header (request, axes, number
#: of points, dropped points) as JSON in `body`; the points in `experiment_points`
#: (until version 16 they were in `body` too).
experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    session_column(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("session_id", "name", name="uq_experiments_session_name"),
)

#: An experiment's points, one row each (version 16), deleted with it: `point_index`
#: its position from 0 (a page of the frame reads a range of them), `number` its
#: tag's, `point` its `{axis key: value}` as JSON, the scenario that runs it and
#: whether it reuses that scenario.
experiment_points = sa.Table(
    "experiment_points",
    metadata,
    sa.Column(
        "experiment_id",
        sa.String(64),
        sa.ForeignKey("experiments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("point_index", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("scenario_id", sa.String(64), nullable=False),
    sa.Column("reused", sa.Boolean, nullable=False),
    sa.Column("point", sa.Text, nullable=False),
)

#: Optimisation studies (`algomancy_core.studies`, version 14): the request and the
#: sampler's state as JSON in `body`, and the driver's lease.
studies = sa.Table(
    "studies",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    session_column(),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("stop_requested", sa.Boolean, nullable=False),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_expires_at", UTCDateTime),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("session_id", "name", name="uq_studies_session_name"),
    sa.Index("ix_studies_state", "state"),
)

#: A study's trials: one number and at most one scenario each, never two.
study_trials = sa.Table(
    "study_trials",
    metadata,
    sa.Column(
        "study_id",
        sa.String(64),
        sa.ForeignKey("studies.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("scenario_id", sa.String(64)),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.UniqueConstraint("study_id", "number", name="uq_study_trials_number"),
    sa.UniqueConstraint("study_id", "scenario_id", name="uq_study_trials_scenario"),
)

# The database itself refuses a second processing scenario of a session's own
# (batch NULL), whatever races between processes; a claim that loses on it moves on
# to the next candidate. Batch scenarios are not limited per session (version 13).
_OWN_PROCESSING = sa.and_(scenarios.c.status == S.PROCESSING.value, scenarios.c.batch.is_(None))
sa.Index(
    "uq_scenarios_one_processing",
    scenarios.c.session_id,
    unique=True,
    sqlite_where=_OWN_PROCESSING,
    postgresql_where=_OWN_PROCESSING,
)
# A claim reads batch scenarios batch by batch: each batch's oldest queued row and
# how many of it are processing (one probe each), and when it was last served.
_BATCHED = scenarios.c.batch.isnot(None)
sa.Index(
    "ix_scenarios_batch_queue",
    scenarios.c.status,
    scenarios.c.batch,
    scenarios.c.queue_seq,
    sqlite_where=_BATCHED,
    postgresql_where=_BATCHED,
)
sa.Index(
    "ix_scenarios_batch_served",
    scenarios.c.batch,
    scenarios.c.started_at,
    sqlite_where=_BATCHED,
    postgresql_where=_BATCHED,
)
