"""What administrators need of `SessionManager`: every user's sessions, and whose
session a UUID names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from algomancy_core import NotFoundError, SessionManager

from .conftest import make_config


@pytest.fixture(params=["memory", "sqlite"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionManager]:
    persistent = request.param == "sqlite"
    config = make_config(has_persistent_state=persistent, data_path=str(tmp_path))
    with SessionManager(config) as manager:
        yield manager


def test_all_sessions_lists_every_owner_oldest_first(sessions: SessionManager) -> None:
    alices = sessions.create_session("a1", "alice")
    bobs = sessions.create_session("b1", "bob")
    listed = [(s.display_name, s.owner) for s in sessions.all_sessions("root")]
    assert listed == [("main", None), ("a1", "alice"), ("b1", "bob"), ("main", "root")]
    ids = [s.id for s in sessions.all_sessions("root")]
    assert ids.index(alices.session_id) < ids.index(bobs.session_id)


def test_owner_for_resolves_another_users_uuid_only(sessions: SessionManager) -> None:
    alices = sessions.create_session("shared-name", "alice")
    sessions.create_session("shared-name", "root")
    assert sessions.owner_for(alices.session_id, "root") == "alice"
    # By display name: the admin's own session.
    assert sessions.owner_for("shared-name", "root") == "root"
    # Unknown: the admin's own scope, so the lookup says "not found".
    unknown = "00000000-0000-0000-0000-000000000000"
    assert sessions.owner_for(unknown, "root") == "root"
    with pytest.raises(NotFoundError):
        sessions.get_session(unknown, sessions.owner_for(unknown, "root"))
    assert sessions.get_session(alices.session_id, "alice").display_name == "shared-name"
