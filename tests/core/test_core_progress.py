"""Progress reports on a shared store: the algorithm never waits for the store.

The dispatcher's thread writes a run's first report at once and later ones a few
times a second; `ctx.progress` only hands the report over. Before, each due report
was written in the algorithm's own thread, which then waited for the database
(a PostgreSQL round trip, or SQLite's write lock held by another process).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from algomancy_core import BaseAlgorithm, BaseResult, RunContext, ScenarioStatus, SessionManager
from algomancy_data import DataSource

from .conftest import CountParameters, make_config

STARTED, GO, REPORTED = threading.Event(), threading.Event(), threading.Event()
SECONDS_IN_PROGRESS: list[float] = []


class Reporting(BaseAlgorithm):
    """Waits for the test's signal, then reports twice, timing each call."""

    name = "Reporting"
    parameters = CountParameters

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        STARTED.set()
        GO.wait(10)
        for fraction, message in ((0.25, "first"), (0.5, "second")):
            start = time.monotonic()
            ctx.progress(fraction, message)
            SECONDS_IN_PROGRESS.append(time.monotonic() - start)
        REPORTED.set()
        return BaseResult({"total": 1})


def test_a_report_does_not_wait_for_a_locked_database(tmp_path: Path) -> None:
    config = make_config(algorithms=[Reporting], has_persistent_state=True, data_path=str(tmp_path))
    with SessionManager(config) as sessions:
        main = sessions.get_session("main")
        scenario = main.create_scenario("s", "Master data", "Reporting", {})
        main.run_scenario(scenario.id)
        assert STARTED.wait(10)  # claimed and running
        # Another process (here: a connection of its own) holds the write lock while
        # the algorithm reports; a report written in its thread would wait for it.
        other = sqlite3.connect(tmp_path / "algomancy.sqlite3", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            GO.set()
            reported_meanwhile = REPORTED.wait(2)
            other.execute("COMMIT")
        finally:
            other.close()
        done = main.wait(scenario.id)
    assert reported_meanwhile, "ctx.progress waited for the database's write lock"
    assert done.status is ScenarioStatus.COMPLETE
    assert len(SECONDS_IN_PROGRESS) == 2 and max(SECONDS_IN_PROGRESS) < 0.5, SECONDS_IN_PROGRESS
