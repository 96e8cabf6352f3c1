"""The old names of renamed classes still import, as the same objects."""

from __future__ import annotations

import algomancy_core
import algomancy_core.engine
import algomancy_core.errors
from algomancy_core import CoreError, Runtime, SessionManager
from tests.core.conftest import make_config


def test_old_names_are_the_new_objects() -> None:
    assert algomancy_core.Engine is Runtime
    assert algomancy_core.engine.Engine is Runtime
    assert algomancy_core.AlgomancyError is CoreError
    assert algomancy_core.errors.AlgomancyError is CoreError


def test_a_session_manager_still_answers_to_engine() -> None:
    sessions = SessionManager(make_config())
    assert sessions.engine is sessions.runtime
    assert isinstance(sessions.runtime, Runtime)
