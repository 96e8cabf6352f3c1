"""The example's Iterative descent: it reports the travel distance after each
iteration, its KPI is the last value reported, and a cancel stops it."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from algomancy_core import CoreConfig, RunCancelledError, RunContext, ScenarioStatus, SessionManager
from algomancy_example import example_settings
from algomancy_example.descent import IterativeDescent
from algomancy_example.domain import master_data
from algomancy_example.kpis import TravelDistance
from tests.polling import wait_for

S = ScenarioStatus


@pytest.fixture(scope="module")
def sessions() -> Iterator[SessionManager]:
    with SessionManager(CoreConfig(**example_settings(), max_workers=2)) as manager:
        yield manager


def test_it_reports_each_iteration_and_its_kpi_is_the_last_value(
    sessions: SessionManager,
) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario(
        "descent", "Master data", "Iterative descent", {"steps": 30, "moves_per_step": 40}
    )
    main.run_scenario(record.id)
    done = main.wait(record.id, timeout=120)
    assert done.status is S.COMPLETE, done.error
    reports = main.reports(record.id)
    assert [step for step, _ in reports] == list(range(1, 31))
    values = [value for _, value in reports]
    assert done.kpis["travel_distance"] == values[-1]
    # Pure descent (no worse move taken): the travel never grows, and it did improve.
    assert all(later <= earlier for earlier, later in itertools.pairwise(values))
    assert values[-1] < values[0]
    assert done.kpis["unassigned_skus"] == 0


def test_a_worse_move_may_be_taken_and_more_effort_descends_further() -> None:
    data = master_data()

    def course(**params: object) -> list[float]:
        got: list[float] = []
        result = IterativeDescent({"steps": 20, **params}).run(
            data, RunContext(on_report=lambda step, value: got.append(value))
        )
        assert TravelDistance().compute(result) == got[-1]
        return got

    greedy = course(moves_per_step=200)
    assert course(moves_per_step=200) == greedy  # seeded: the same course again
    assert course(moves_per_step=5)[-1] > greedy[-1]
    wandering = course(moves_per_step=200, worse_acceptance=0.5)
    assert any(later > earlier for earlier, later in itertools.pairwise(wandering))


def test_it_stops_at_the_next_report_once_cancelled() -> None:
    steps: list[int] = []
    cancel = threading.Event()

    def cancel_at_third(step: int, value: float) -> None:
        steps.append(step)
        if step == 3:
            cancel.set()

    ctx = RunContext(on_report=cancel_at_third, cancel_event=cancel)
    with pytest.raises(RunCancelledError):
        IterativeDescent({"steps": 50}).run(master_data(), ctx)
    assert steps == [1, 2, 3]


def test_a_cancel_stops_it_in_a_pause(sessions: SessionManager) -> None:
    main = sessions.get_session("main")
    record = main.create_scenario(
        "paused", "Master data", "Iterative descent", {"steps": 1000, "step_seconds": 5.0}
    )
    main.run_scenario(record.id)
    wait_for(lambda: main.reports(record.id))  # in its first pause (of 5 s)
    main.cancel_scenario(record.id)
    done = main.wait(record.id, timeout=60)
    assert (done.status, done.error) == (S.FAILED, "cancelled")
    assert len(main.reports(record.id)) < 1000
