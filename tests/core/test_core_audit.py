"""The audit trail and the delivery queue in the stores: an audited change and its
record commit together (SQLite and PostgreSQL), retention, claims."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from algomancy_core import ConfigurationError, ConflictError, Runtime
from algomancy_core.audit import (
    AuditQuery,
    AuditRecord,
    MemoryAuditLog,
    PendingAudit,
    auditing,
)
from algomancy_core.deliveries import Delivery, DeliveryStatus
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, plan_transition, utcnow
from algomancy_core.stores import MemoryStore, SessionRecord, Store
from algomancy_core.stores.sql import SQLStore
from algomancy_core.stores.sql import audit_rows as sql_audit
from tests.core.conftest import items, make_config
from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import wait_for

#: What a failed statement raises, through SQLAlchemy or from the plain-SQL paths.
DB_ERRORS = (sa.exc.DBAPIError, sqlite3.Error)
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'algomancy.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = SQLStore(url)
    yield store
    store.close()


@pytest.fixture(params=["memory", "sql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    store: Store = (
        MemoryStore()
        if request.param == "memory"
        else SQLStore(f"sqlite:///{tmp_path / 'algomancy.sqlite3'}")
    )
    yield store
    store.close()


def session(name: str) -> SessionRecord:
    return SessionRecord(id=str(uuid.uuid4()), display_name=name, created_at=T0)


def pending(kind: str = "session.create", **subject: str) -> PendingAudit:
    return PendingAudit(
        user="alice", client="10.0.0.7", summary="POST /x", kind=kind, subject=subject
    )


def record(at: datetime, user: str = "alice", kind: str = "session.create") -> AuditRecord:
    return AuditRecord(at, user, kind, "s1", {"session_id": "s1"}, "POST /x", None, "ok")


def test_an_audited_change_writes_its_record_in_its_transaction(sql_store: SQLStore) -> None:
    first = session("a")
    with auditing(pending(session_id="a")) as audit:
        sql_store.create_session(first)
    assert audit.written
    found = sql_store.audit.query(AuditQuery())
    assert [(r.kind, r.user, r.client, r.outcome, r.session_id) for r in found] == [
        ("session.create", "alice", "10.0.0.7", "ok", "a")
    ]
    # The other write paths: a transition (one statement) and a plain transaction.
    sql_store.put_dataset(first.id, "d", items())
    scenario = ScenarioRecord(
        id=str(uuid.uuid4()),
        session_id=first.id,
        tag="t",
        dataset_key="d",
        algorithm="Instant",
        parameters={},
    )
    with auditing(pending("scenario.create")):
        sql_store.add_scenario(scenario)
    with auditing(pending("scenario.run")):
        sql_store.apply_transition(scenario.id, plan_transition(ScenarioStatus.QUEUED))
    kinds = [r.kind for r in sql_store.audit.query(AuditQuery())]
    assert kinds == ["scenario.run", "scenario.create", "session.create"]


def test_a_failed_change_leaves_no_record_of_a_change(sql_store: SQLStore) -> None:
    sql_store.create_session(session("taken"))
    with auditing(pending()) as audit, pytest.raises(ConflictError):
        sql_store.create_session(session("taken"))
    assert not audit.written
    assert sql_store.audit.query(AuditQuery()) == []


def test_a_record_that_cannot_be_written_undoes_the_change(
    sql_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = "INSERT INTO no_such_table (x) VALUES (1)"
    monkeypatch.setattr(sql_audit, "AUDIT_INSERT", broken)
    doomed = session("doomed")
    with auditing(pending()), pytest.raises(DB_ERRORS):
        sql_store.create_session(doomed)
    assert sql_store.get_session(doomed.id) is None
    kept = session("kept")
    sql_store.create_session(kept)
    with auditing(pending("session.rename")), pytest.raises(DB_ERRORS):
        sql_store.rename_session(kept.id, "renamed")
    renamed = sql_store.get_session(kept.id)
    assert renamed is not None and renamed.display_name == "kept"


def test_the_trail_and_the_queue_are_never_the_audited_change(sql_store: SQLStore) -> None:
    now = utcnow()
    with auditing(pending("dataset.etl")) as audit:
        sql_store.deliveries.enqueue([Delivery("etl.failed", "http://h/x", "{}", now, now)])
        sql_store.audit.append(record(now, kind="other"))
    assert not audit.written
    assert [r.kind for r in sql_store.audit.query(AuditQuery())] == ["other"]


def test_writes_outside_an_audit_scope_are_not_recorded(sql_store: SQLStore) -> None:
    sql_store.create_session(session("plain"))
    with auditing(PendingAudit(user="u", client=None, summary="s")):  # no kind yet
        sql_store.create_session(session("unnamed"))
    assert sql_store.audit.query(AuditQuery()) == []


def test_filters_paging_and_pruning(any_store: Store) -> None:
    log = any_store.audit
    for i in range(5):
        log.append(record(T0 + timedelta(days=i), user="alice" if i % 2 else "bob"))
    log.append(record(T0 + timedelta(days=9), kind="scenario.run"))
    newest_first = log.query(AuditQuery())
    assert [r.at.day for r in newest_first] == [10, 5, 4, 3, 2, 1]
    assert [r.at.day for r in log.query(AuditQuery(user="bob"))] == [5, 3, 1]
    assert [r.at.day for r in log.query(AuditQuery(kind="scenario.run"))] == [10]
    window = AuditQuery(since=T0 + timedelta(days=1), until=T0 + timedelta(days=3))
    assert [r.at.day for r in log.query(window)] == [3, 2]
    assert [r.at.day for r in log.query(AuditQuery(limit=2, offset=1))] == [5, 4]
    assert log.query(AuditQuery(session_id="other")) == []
    assert log.prune(T0 + timedelta(days=2)) == 2
    assert [r.at.day for r in log.query(AuditQuery())] == [10, 5, 4, 3]


def test_the_memory_log_is_bounded() -> None:
    log = MemoryAuditLog(size=3)
    for i in range(5):
        log.append(record(T0 + timedelta(minutes=i)))
    assert [r.at.minute for r in log.query(AuditQuery())] == [4, 3, 2]


def test_a_delivery_is_claimed_by_one_owner_in_memory() -> None:
    check_claims(MemoryStore())


def test_a_delivery_is_claimed_by_one_owner_in_sql(sql_store: SQLStore) -> None:
    check_claims(sql_store)


def check_claims(store: Store) -> None:
    """One holder at a time, until it finishes or its claim lapses."""
    queue = store.deliveries
    queue.enqueue([Delivery("scenario.finished", "http://h/x", "{}", T0, T0)])
    held = queue.claim("a", T0, T0 + timedelta(minutes=1))
    assert held is not None and held.claimed_by == "a"
    assert queue.claim("b", T0, T0 + timedelta(minutes=1)) is None
    assert not queue.finish(
        held.id, "b", status=DeliveryStatus.DEAD, attempts=1, last_error="x", next_attempt_at=T0
    )
    # A claim whose holder died lapses; the old holder then cannot finish it.
    later = T0 + timedelta(minutes=2)
    again = queue.claim("b", later, later + timedelta(minutes=1))
    assert again is not None and again.id == held.id
    assert not queue.finish(
        held.id, "a", status=DeliveryStatus.DELIVERED, attempts=1, last_error=None,
        next_attempt_at=later,
    )  # fmt: skip
    retry_at = later + timedelta(seconds=10)
    assert queue.finish(
        held.id, "b", status=DeliveryStatus.PENDING, attempts=1, last_error="HTTP 500",
        next_attempt_at=retry_at,
    )  # fmt: skip
    assert queue.claim("c", later, later + timedelta(minutes=1)) is None  # not due yet
    [listed] = queue.list(DeliveryStatus.PENDING)
    assert (listed.attempts, listed.last_error, listed.claimed_by) == (1, "HTTP 500", None)
    assert queue.list(DeliveryStatus.DEAD) == []


def test_a_version_7_database_gets_the_audit_and_delivery_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    SQLStore(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_log"))
        conn.execute(sa.text("DROP TABLE webhook_deliveries"))
        conn.execute(sa.text("UPDATE meta SET value = 7 WHERE name = 'schema_version'"))
    engine.dispose()
    store = SQLStore(url)
    try:
        store.audit.append(record(T0))
        assert len(store.audit.query(AuditQuery())) == 1
        assert store.deliveries.list() == []
    finally:
        store.close()


def test_the_housekeeping_prunes_records_past_the_retention() -> None:
    runtime = Runtime(make_config(audit_retention_days=30))
    log = runtime.store.audit
    now = utcnow()
    log.append(record(now - timedelta(days=31), kind="old"))
    log.append(record(now - timedelta(days=29), kind="recent"))
    runtime.start()
    try:
        wait_for(lambda: [r.kind for r in log.query(AuditQuery())], lambda k: k == ["recent"])
    finally:
        runtime.close()


def test_audit_retention_days_must_be_a_positive_integer() -> None:
    with pytest.raises(ConfigurationError, match="audit_retention_days"):
        make_config(audit_retention_days=0)
