"""The dispatcher's lines at each run's start and end: INFO for a session's own
runs, DEBUG for an experiment's points (thousands of lines a minute otherwise)."""

from __future__ import annotations

import logging

import pytest

from algomancy_core import SessionManager
from algomancy_core.experiments.service import create_experiment


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
    levels: dict[str, set[str]] = {}
    for record in caplog.records:
        event = getattr(record, "event", None)
        if event in ("run-started", "run-ended"):
            levels.setdefault(record.scenario_id, set()).add(  # type: ignore[attr-defined]
                f"{event} {record.levelname}"
            )
    assert levels[own.id] == {"run-started INFO", "run-ended INFO"}
    for scenario_id in grid.scenario_ids:
        assert levels[scenario_id] == {"run-started DEBUG", "run-ended DEBUG"}
