"""The dispatcher's lines at each run's start and end: INFO for a session's own
runs, DEBUG for an experiment's points (thousands of lines a minute otherwise); a
run's time limit counts from its start (a point claimed ahead waits first)."""

from __future__ import annotations

import logging
import time

import pytest

from algomancy_core import SessionManager
from algomancy_core.dispatcher.runs import Run
from algomancy_core.experiments.service import create_experiment
from tests.polling import wait_for


def test_own_runs_log_at_info_and_experiment_points_at_debug(
    sessions: SessionManager, caplog: pytest.LogCaptureFixture
) -> None:
    main = sessions.create_session("logs")
    caplog.set_level(logging.DEBUG, logger="algomancy.dispatcher")
    own = main.create_scenario("own", "Master data", "Instant")
    main.run_scenario(own.id)
    main.wait(own.id)
    base = {"algo_name": "Instant", "dataset_key": "Master data"}
    design = {"kind": "grid", "axes": [{"name": "count", "values": [1, 2]}]}
    grid = create_experiment(main, "grid", base, design, 10)
    for scenario_id in grid.scenario_ids:
        main.wait(scenario_id)

    def levels() -> dict[str, set[str]]:
        """Each run's lines (a run's end is logged just after it is written)."""
        found: dict[str, set[str]] = {}
        for record in list(caplog.records):
            event = getattr(record, "event", None)
            if event in ("run-started", "run-ended"):
                found.setdefault(record.scenario_id, set()).add(  # type: ignore[attr-defined]
                    f"{event} {record.levelname}"
                )
        return found

    points = {"run-started DEBUG", "run-ended DEBUG"}
    wanted = {own.id: {"run-started INFO", "run-ended INFO"}} | dict.fromkeys(
        grid.scenario_ids, points
    )
    wait_for(levels, lambda found: found == wanted, what="each run's two lines")


class Waiting:
    """A run handle of an executor that has not started the run yet (claimed ahead
    of a free worker), until `started` is set."""

    def __init__(self) -> None:
        self.begun = False
        self.cancelled = False

    def started(self) -> bool:
        return self.begun

    def cancel(self) -> None:
        self.cancelled = True

    def done(self) -> bool:
        return False


def test_a_runs_time_limit_counts_from_its_start_not_its_claim(
    sessions: SessionManager,
) -> None:
    dispatcher = sessions.runtime.dispatcher
    main = sessions.create_session("limits")
    record = main.create_scenario("waits", "Master data", "Instant")
    handle = Waiting()
    run = Run(record, handle=handle, limit=0.5, deadline=time.monotonic() - 1.0)
    with dispatcher._lock:
        dispatcher._runs[record.id] = run
    try:
        dispatcher._housekeeping()  # past its deadline, but not started: no limit yet
        assert not handle.cancelled and run.stop_reason is None
        assert run.deadline is not None and run.deadline > time.monotonic()
        handle.begun, run.deadline = True, time.monotonic() - 1.0
        dispatcher._housekeeping()
        assert handle.cancelled and run.stop_reason is not None
        assert run.stop_reason.startswith("timed out")
    finally:
        with dispatcher._lock:
            dispatcher._runs.pop(record.id, None)
