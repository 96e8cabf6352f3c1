"""An experiment's counts: `created` and `reused` count the scenarios the experiment
made or reused, whatever their status; the status counts come from the scenarios."""

from __future__ import annotations

from algomancy_core.experiments.book import ExperimentRecord
from algomancy_core.experiments.progress import counts, state
from algomancy_core.scenario import ScenarioStatus, utcnow


def record(n: int, reused: list[int] | None = None) -> ExperimentRecord:
    return ExperimentRecord(
        id="e",
        session_id="s",
        name="sweep",
        created_at=utcnow(),
        base={},
        design={"kind": "grid", "axes": []},
        axes=["x"],
        points=[{"x": i} for i in range(n)],
        scenario_ids=[f"sc{i}" for i in range(n)],
        reused=reused or [],
    )


def test_a_point_reset_to_created_is_not_counted_as_made_again() -> None:
    made = record(4, reused=[4])
    statuses = {
        "sc0": ScenarioStatus.CREATED,  # reset after it ran
        "sc1": ScenarioStatus.COMPLETE,
        "sc2": ScenarioStatus.QUEUED,
        "sc3": ScenarioStatus.COMPLETE,
    }
    counted = counts(made, statuses)
    assert counted == {
        "planned": 4,
        "dropped": 0,
        "created": 3,
        "reused": 1,
        "queued": 1,
        "processing": 0,
        "complete": 2,
        "failed": 0,
        "missing": 0,
    }
    assert state(made, counted) == "running"


def test_a_deleted_scenario_is_missing() -> None:
    made = record(2)
    counted = counts(made, {"sc0": ScenarioStatus.FAILED})
    assert (counted["created"], counted["failed"], counted["missing"]) == (2, 1, 1)
    assert state(made, counted) == "complete"
