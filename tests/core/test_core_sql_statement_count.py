"""The SQL statements of one create+run+complete on SQLite, pinned (issues 22 and 23:
"11 create+run+complete, HTTP: SQLite / in memory" of `benchmarks.bench_scenarios`).

Every statement a scenario costs is a round through sqlite3 that gives up the GIL
and, for a write, holds the file's one write turn. These counts are what the
statements are today; a change that adds one fails here, and must say in this file
what it buys (or find the statement a home in one already made).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from algomancy_core import SessionManager, runtime
from algomancy_core.dispatcher import Dispatcher
from algomancy_core.scenario import ScenarioStatus
from tests.polling import wait_for
from tests.sqltrace import Trace

from .conftest import Gate, make_config

#: Housekeeping's statements (each second on a shared store, not per scenario).
_HOUSEKEEPING = re.compile(
    r"SET lease_expires_at = |lease_expires_at < |DISTINCT lease_owner|lease_owner IN|^PRAGMA"
)
#: The look at the queue before a claim (a read: nothing queued, no write transaction).
_PROBE = re.compile(r"^SELECT 1 FROM scenarios WHERE status = 'queued'")

#: The completion's move.
_COMPLETES = "UPDATE scenarios SET status = 'complete'"


class _ToldOnly(Dispatcher):
    """A dispatcher that looks at the queue only when told (at start, a run request,
    a run's end): no look of its half-second poll falls among the counted ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.poll_interval = 3600.0


@pytest.fixture
def sql_sessions(
    tmp_path: Path, traced: Trace, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SessionManager]:
    monkeypatch.setattr(runtime, "Dispatcher", _ToldOnly)
    config = make_config(has_persistent_state=True, data_path=tmp_path / "state")
    with SessionManager(config) as sessions:
        yield sessions


def _plain(statements: Trace) -> list[str]:
    """The statements that are not housekeeping's."""
    return [sql for _, sql in statements if not _HOUSEKEEPING.search(sql)]


def _run_to_its_end(manager: Any, scenario_id: str, traced: Trace) -> None:
    """Run the scenario; return once it is complete and the dispatcher has looked at
    the queue after its end (its session may have another queued)."""
    manager.run_scenario(scenario_id)
    _wait_for_its_end(manager, scenario_id, traced)


def _wait_for_its_end(manager: Any, scenario_id: str, traced: Trace) -> None:
    """Return once the scenario is complete and the dispatcher has looked at the
    queue after its end."""
    wait_for(
        lambda: manager.get_scenario(scenario_id).status,
        lambda status: status is ScenarioStatus.COMPLETE,
        what="the scenario to complete",
    )

    def looked_after_the_end() -> bool:
        sqls = [sql for _, sql in traced]
        ends = [i for i, sql in enumerate(sqls) if sql.startswith(_COMPLETES)]
        return bool(ends) and any(_PROBE.search(sql) for sql in sqls[ends[-1] :])

    wait_for(looked_after_the_end, what="the look at the queue after the run's end")


def test_one_create_run_complete_on_sqlite_takes_the_statements_it_takes(
    sql_sessions: SessionManager, traced: Trace
) -> None:
    manager = sql_sessions.get_session("main")
    # The first scenario pays one-time costs (statement caches, the dataset's decode).
    first = manager.create_scenario("warm-up", "Master data", "Instant", {"count": 1})
    _run_to_its_end(manager, first.id, traced)
    me = threading.current_thread().name

    traced.clear()
    record = manager.create_scenario("counted", "Master data", "Instant", {"count": 1})
    create = _plain([s for s in traced if s[0] == me])

    traced.clear()
    _run_to_its_end(manager, record.id, traced)
    mine = _plain([s for s in traced if s[0] == me])
    run = mine[: mine.index("COMMIT") + 1]  # then the test's own reads while it waits
    background = _plain([s for s in traced if s[0] != me and "checkpoint" not in s[0]])

    # The create: the dataset's latest version as the store last saw it (no read;
    # its data is cached), then one write transaction: the dataset, that its version
    # is still the latest, and room under the session's limit (a bound of the
    # table's rows, not a count of the session's; one statement), the position, the
    # insert, the change feed.
    assert len(create) == 6, create
    assert create[0] == "BEGIN IMMEDIATE", create
    assert not [sql for sql in create if "count(" in sql], create
    # The run request: the scenario (is it stale?), then one write transaction: the
    # queue position, the move (its change feed entry appended by the database,
    # `stores/sql/triggers.py`).
    assert len(run) == 5, run
    # The claim: one statement in autocommit (the move to processing is the claim;
    # the database appends its change), no look at the queue first (the run request
    # told the dispatcher); the run's dataset version; the completion: one statement
    # (the move with its result); the look at the queue after the end (it finds
    # nothing: no write).
    assert len(background) == 4, background
    assert background[0].startswith("UPDATE scenarios SET status = 'processing'"), background
    assert background[2].startswith(_COMPLETES), background
    everything = create + run + background
    assert sum(sql == "BEGIN IMMEDIATE" for sql in everything) == 2, everything
    assert sum(sql.startswith("COMMIT") for sql in everything) == 2, everything
    # The feed has every move all the same.
    feed = manager._store.read_changes(0, 100, manager.session_id)
    assert [c.kind for c in feed if c.subject == record.id] == [
        "scenario.created",
        "scenario.queued",
        "scenario.started",
        "scenario.complete",
    ]


def test_runs_queued_behind_their_sessions_run_are_claimed_without_a_look(
    sql_sessions: SessionManager, traced: Trace, gate: Gate
) -> None:
    """Runs requested while their session runs another here (the benchmark's
    pattern): the claim after each run's end goes straight to its write, with no
    look at the queue first and no second, empty claim (before: a look before
    each such claim, and an empty write transaction for about half of them)."""
    manager = sql_sessions.get_session("main")
    held = manager.create_scenario("held", "Master data", "Gated", {"count": 1})
    behind = [
        manager.create_scenario(f"behind {i}", "Master data", "Instant", {"count": 1})
        for i in range(4)
    ]
    manager.run_scenario(held.id)
    assert gate.started.wait(10)
    for record in behind:
        manager.run_scenario(record.id)
    me = threading.current_thread().name
    traced.clear()
    gate.release.set()
    _wait_for_its_end(manager, behind[-1].id, traced)
    background = _plain([s for s in traced if s[0] != me and "checkpoint" not in s[0]])
    claims = [
        n
        for n, sql in enumerate(background)
        if sql.startswith("UPDATE scenarios SET status = 'processing'")
    ]
    # Four claims, each of a scenario, each one statement (an empty claim writes no
    # change feed entry).
    assert len(claims) == 4, background
    started = [
        c.subject for c in manager._store.read_changes(0, 100) if c.kind == "scenario.started"
    ]
    assert started[-4:] == [record.id for record in behind], started
    # The one look: after the last run's end, when nothing is queued behind.
    assert len([sql for sql in background if _PROBE.search(sql)]) == 1, background
