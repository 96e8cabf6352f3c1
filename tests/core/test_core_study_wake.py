"""The study driver is woken by the end of a study's trial only: any other run's
end has nothing to tell a study (and on SQL a wake costs a read per run)."""

from __future__ import annotations

from algomancy_core.scenario import ScenarioRecord, ScenarioStatus
from algomancy_core.studies.driver import _DriverObserver
from algomancy_core.studies.trials import batch_of, is_trial


class Wakes:
    def __init__(self) -> None:
        self.woken: list[ScenarioRecord | None] = []

    def wake(self, record: ScenarioRecord | None = None) -> None:
        self.woken.append(record)


def settled(batch: str | None) -> ScenarioRecord:
    return ScenarioRecord(
        id=f"id-{batch}",
        session_id="s",
        tag=f"t-{batch}",
        dataset_key="d",
        algorithm="a",
        parameters={},
        status=ScenarioStatus.COMPLETE,
        batch=batch,
    )


def test_only_a_trials_end_wakes_the_study_driver() -> None:
    driver = Wakes()
    observer = _DriverObserver(driver)  # type: ignore[arg-type]
    own, experiments, trial = settled(None), settled("experiment:e1"), settled(batch_of("st1"))
    for record in (own, experiments, trial):
        observer.run_settled(record)
    assert driver.woken == [trial]


def test_a_trial_is_told_by_its_batch() -> None:
    assert is_trial(settled(batch_of("x")))
    assert not is_trial(settled(None))
    assert not is_trial(settled("experiment:study:x"))
