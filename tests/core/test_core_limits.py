"""Names that can be addressed by URL, and the per-user and per-session limits."""

from __future__ import annotations

import pytest

from algomancy_core import ConflictError, InvalidInputError, SessionManager

from .conftest import make_config


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a/b", "'/'"),
        ("..", r"'\.' or '\.\.'"),
        (".", r"'\.' or '\.\.'"),
        # only dots: the OpenAPI pattern of names says the same
        ("...", "only dots"),
        (" .. ", "must not begin with whitespace"),
        ("....", "only dots"),
        ("nul\x00byte", "the control character"),
        ("line\nbreak", "the control character"),
        ("x" * 201, "at most 200 characters"),
        ("  ", "non-empty"),
    ],
)
def test_unaddressable_names_are_refused(sessions: SessionManager, name: str, problem: str) -> None:
    main = sessions.get_session("main")
    with pytest.raises(InvalidInputError, match=problem):
        sessions.create_session(name)
    with pytest.raises(InvalidInputError, match=problem):
        main.derive_dataset("Master data", name)
    with pytest.raises(InvalidInputError, match=problem):
        main.create_scenario(name, "Master data", "Instant")
    assert [s.display_name for s in sessions.list_sessions()] == ["main"]


def test_names_with_dots_and_spaces_inside_are_fine(sessions: SessionManager) -> None:
    created = sessions.create_session("v1.2 .. final")
    assert sessions.get_session("v1.2 .. final").session_id == created.session_id


def test_the_name_length_is_configurable() -> None:
    manager = SessionManager(make_config(max_name_chars=5))
    try:
        with pytest.raises(InvalidInputError, match="at most 5 characters"):
            manager.create_session("sixsix")
        manager.create_session("five5")
    finally:
        manager.close()


def test_sessions_per_user_are_limited() -> None:
    manager = SessionManager(make_config(max_sessions_per_user=2))
    try:
        manager.create_session("alice 1", owner="alice")
        manager.create_session("alice 2", owner="alice")
        with pytest.raises(ConflictError, match="max_sessions_per_user"):
            manager.create_session("alice 3", owner="alice")
        with pytest.raises(ConflictError, match="max_sessions_per_user"):
            manager.copy_session("alice 1", "alice copy", owner="alice")
        manager.create_session("bob 1", owner="bob")
    finally:
        manager.close()


def test_scenarios_per_session_are_limited() -> None:
    manager = SessionManager(make_config(max_scenarios_per_session=2))
    try:
        main = manager.get_session("main")
        main.create_scenario("one", "Master data", "Instant")
        main.create_scenario("two", "Master data", "Instant")
        with pytest.raises(ConflictError, match="max_scenarios_per_session"):
            main.create_scenario("three", "Master data", "Instant")
    finally:
        manager.close()
