"""The upgrade path between layout versions (`MIGRATIONS`) and `open_schema`, which
creates or upgrades the tables of `schema.py` on open. Why hand-written functions and
not Alembic: see `schema.py`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from algomancy_core.names import name_key
from algomancy_core.stores.sql import schema
from algomancy_core.stores.sql.schema import (
    SchemaVersionError,
    audit_log,
    changes,
    dataset_blobs,
    dataset_versions,
    datasets,
    experiment_points,
    experiments,
    meta,
    metadata,
    scenarios,
    studies,
    study_trials,
    webhook_deliveries,
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
    """Version 5: the `sessions.list_entry` column and its index. Listings once read
    a wire shape from it; it is neither written nor read any more (a store returns
    records, the HTTP layer shapes them), and stays so that every database has one
    layout without a migration to drop it."""
    if "list_entry" not in {c["name"] for c in sa.inspect(conn).get_columns("sessions")}:
        conn.execute(sa.text("ALTER TABLE sessions ADD COLUMN list_entry TEXT NOT NULL DEFAULT ''"))
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


def _add_batches(conn: Connection) -> None:
    """Version 13: batch scenarios (an experiment's) run in parallel. The `batch`
    column (NULL for every scenario so far: each is its session's own); the
    one-processing rule narrowed to a session's own scenarios; the queue index with
    `batch` before `queue_seq`; the indexes a claim reads batches through."""
    present = {c["name"] for c in sa.inspect(conn).get_columns("scenarios")}
    if "batch" not in present:
        conn.execute(sa.text("ALTER TABLE scenarios ADD COLUMN batch TEXT"))
    for name in ("uq_scenarios_one_processing", "ix_scenarios_queue"):
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    for index in scenarios.indexes:
        if index.name in (
            "uq_scenarios_one_processing",
            "ix_scenarios_queue",
            "ix_scenarios_batch_queue",
            "ix_scenarios_batch_served",
        ):
            index.create(conn, checkfirst=True)


def _add_studies(conn: Connection) -> None:
    """Version 14: the `studies` and `study_trials` tables."""
    studies.create(conn, checkfirst=True)
    study_trials.create(conn, checkfirst=True)


def _add_run_reports(conn: Connection) -> None:
    """Version 15: a run's intermediate values (`reports`) and whether it was pruned."""
    present = {c["name"] for c in sa.inspect(conn).get_columns("scenarios")}
    if "pruned" not in present:
        conn.execute(
            sa.text("ALTER TABLE scenarios ADD COLUMN pruned BOOLEAN NOT NULL DEFAULT false")
        )
    if "reports" not in present:
        conn.execute(sa.text("ALTER TABLE scenarios ADD COLUMN reports TEXT"))


def _split_experiment_points(conn: Connection) -> None:
    """Version 16: each experiment's points in rows of their own
    (`experiment_points`), its `body` keeping only the header."""
    experiment_points.create(conn, checkfirst=True)
    for experiment_id, body in conn.execute(sa.select(experiments.c.id, experiments.c.body)).all():
        old = orjson.loads(body)
        if "points" not in old:
            continue
        numbers = old.get("numbers") or range(1, len(old["points"]) + 1)
        reused = set(old.get("reused") or ())
        rows = [
            {
                "experiment_id": experiment_id,
                "point_index": i,
                "number": number,
                "scenario_id": scenario_id,
                "reused": i + 1 in reused,
                "point": orjson.dumps(point).decode(),
            }
            for i, (point, scenario_id, number) in enumerate(
                zip(old["points"], old["scenario_ids"], numbers, strict=True)
            )
        ]
        if rows:
            conn.execute(sa.insert(experiment_points), rows)
        header = {name: old[name] for name in ("base", "design", "axes")}
        header["size"] = len(rows)
        if old.get("dropped"):
            header["dropped"] = old["dropped"]
        conn.execute(
            sa.update(experiments)
            .where(experiments.c.id == experiment_id)
            .values(body=orjson.dumps(header).decode())
        )


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
    13: _add_batches,
    14: _add_studies,
    15: _add_run_reports,
    16: _split_experiment_points,
}


def open_schema(conn: Connection, where: str) -> None:
    """Create or upgrade the tables in the open write transaction `conn`; refuse a
    layout newer than this code (`where` names the database in the error)."""
    current = schema.SCHEMA_VERSION  # read at each open: a test may set a later one
    recorded: Any = None
    if sa.inspect(conn).has_table(meta.name):
        recorded = conn.execute(
            sa.select(meta.c.value).where(meta.c.name == "schema_version")
        ).scalar_one_or_none()
    if recorded is not None and recorded > current:
        raise SchemaVersionError(
            f"the database at {where} has schema version {recorded}, newer than "
            f"this Algomancy's {current}; upgrade Algomancy to open it "
            "(see docs/persistence.md)"
        )
    if recorded is not None:
        for version in range(recorded + 1, current + 1):
            MIGRATIONS[version](conn)
    metadata.create_all(conn, checkfirst=True)
    if recorded is None:
        conn.execute(sa.insert(meta).values(name="schema_version", value=current))
        conn.execute(sa.insert(meta).values(name="position", value=0))
    elif recorded < current:
        conn.execute(sa.update(meta).where(meta.c.name == "schema_version").values(value=current))
