"""Run time limits: per configuration and per algorithm."""

from __future__ import annotations

from algomancy_core import BaseResult, RunContext, ScenarioStatus, SessionManager
from algomancy_data import DataSource

from .conftest import Gate, Gated, make_config


class Limited(Gated):
    name = "Limited"
    timeout = 0.2

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        return super().run(data, ctx)


def test_configured_timeout_fails_the_run(gate: Gate) -> None:
    with SessionManager(make_config(run_timeout=0.2)) as sessions:
        main = sessions.get_session("main")
        record = main.create_scenario("slow", "Master data", "Gated")
        main.run_scenario(record.id)
        failed = main.wait(record.id, timeout=10)
    assert failed.status is ScenarioStatus.FAILED
    assert failed.error is not None and failed.error.startswith("timed out")


def test_algorithm_timeout_fails_the_run(gate: Gate) -> None:
    config = make_config(algorithms=[Limited])
    with SessionManager(config) as sessions:
        main = sessions.get_session("main")
        record = main.create_scenario("limited", "Master data", "Limited")
        main.run_scenario(record.id)
        failed = main.wait(record.id, timeout=10)
    assert failed.status is ScenarioStatus.FAILED
    assert failed.error is not None and "time limit" in failed.error


def test_runs_within_the_limit_complete() -> None:
    with SessionManager(make_config(run_timeout=30)) as sessions:
        main = sessions.get_session("main")
        record = main.create_scenario("quick", "Master data", "Instant")
        main.run_scenario(record.id)
        assert main.wait(record.id).status is ScenarioStatus.COMPLETE
