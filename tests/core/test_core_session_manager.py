"""`SessionManager`: create, copy, rename, delete, lookups, the default."""

from __future__ import annotations

import uuid

import pytest

from algomancy_core import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ScenarioStatus,
    SessionManager,
)
from tests.polling import wait_for

from .conftest import Gate

S = ScenarioStatus


def test_main_exists_from_the_start(sessions: SessionManager) -> None:
    listed = sessions.list_sessions()
    assert [s.display_name for s in listed] == ["main"]
    uuid.UUID(listed[0].id)
    assert sessions.default_session_id() == listed[0].id
    assert sessions.get_session("main").list_datasets() == ["Master data"]


def test_lookup_by_id_or_name(sessions: SessionManager) -> None:
    created = sessions.create_session("work")
    assert sessions.get_session(created.session_id).display_name == "work"
    assert sessions.get_session("work").session_id == created.session_id
    with pytest.raises(NotFoundError):
        sessions.get_session("nope")
    with pytest.raises(NotFoundError):
        sessions.get_session(str(uuid.uuid4()))


def test_names_are_unique_and_not_blank(sessions: SessionManager) -> None:
    sessions.create_session("a")
    with pytest.raises(ConflictError):
        sessions.create_session("a")
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(InvalidInputError):
            sessions.create_session(bad)


def test_rename_keeps_the_id(sessions: SessionManager) -> None:
    created = sessions.create_session("old")
    sessions.create_session("taken")
    renamed = sessions.rename_session("old", "new")
    assert renamed.id == created.session_id and renamed.display_name == "new"
    with pytest.raises(ConflictError):
        sessions.rename_session("new", "taken")
    with pytest.raises(NotFoundError):
        sessions.get_session("old")


def test_default_is_main_else_the_oldest(sessions: SessionManager) -> None:
    first = sessions.create_session("first")
    sessions.create_session("second")
    sessions.rename_session("main", "renamed-main")
    oldest = sessions.get_session("renamed-main").session_id
    assert sessions.default_session_id() == oldest
    sessions.delete_session("renamed-main")
    assert sessions.default_session_id() == first.session_id


def test_deleting_the_last_session_leaves_a_fresh_main(sessions: SessionManager) -> None:
    old_id = sessions.default_session_id()
    sessions.delete_session("main")
    listed = sessions.list_sessions()
    assert [s.display_name for s in listed] == ["main"]
    assert listed[0].id != old_id
    assert sessions.get_session("main").list_scenarios() == []


def test_copy_takes_data_and_scenarios(sessions: SessionManager, gate: Gate) -> None:
    main = sessions.get_session("main")
    main.derive_dataset("Master data", "extra")
    done = main.create_scenario("done", "Master data", "Instant")
    main.run_scenario(done.id)
    main.wait(done.id)
    running = main.create_scenario("running", "Master data", "Gated")
    main.run_scenario(running.id)
    assert gate.started.wait(5)
    fresh = main.create_scenario("fresh", "extra", "Instant")

    copy = sessions.copy_session("main", "copy")
    assert copy.list_datasets() == ["Master data", "extra"]
    copied = {s.tag: s for s in copy.list_scenarios()}
    assert set(copied) == {"done", "running", "fresh"}
    assert copied["done"].status is S.COMPLETE
    assert copied["done"].result == {"total": 6, "count": 3}
    assert copied["done"].kpis == {"total": 6.0}
    assert copied["running"].status is S.CREATED and copied["running"].started_at is None
    assert copied["fresh"].status is S.CREATED
    assert {s.id for s in copied.values()}.isdisjoint({done.id, running.id, fresh.id})
    with pytest.raises(ConflictError):
        sessions.copy_session("main", "copy")
    gate.release.set()
    assert main.wait(running.id).status is S.COMPLETE
    assert copy.get_scenario(copied["running"].id).status is S.CREATED


def test_delete_session_cancels_its_runs(sessions: SessionManager, gate: Gate) -> None:
    doomed = sessions.create_session("doomed")
    record = doomed.create_scenario("r", "Master data", "Gated")
    doomed.run_scenario(record.id)
    assert gate.started.wait(5)
    sessions.delete_session("doomed")
    with pytest.raises(NotFoundError):
        sessions.get_session("doomed")
    # The cancelled run frees its thread: other work still completes.
    main = sessions.get_session("main")
    after = main.create_scenario("after", "Master data", "Instant")
    main.run_scenario(after.id)
    assert main.wait(after.id).status is S.COMPLETE
    wait_for(lambda: sessions.runtime.dispatcher.running == [])


def test_owners_see_only_their_sessions(sessions: SessionManager) -> None:
    alice = sessions.create_session("work", owner="alice")
    assert [s.display_name for s in sessions.list_sessions("alice")] == ["work"]
    assert [s.display_name for s in sessions.list_sessions("bob")] == ["main"]
    with pytest.raises(NotFoundError):
        sessions.get_session(alice.session_id, owner="bob")
    sessions.create_session("work", owner="bob")  # names are unique per owner
