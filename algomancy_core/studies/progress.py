"""A study's progress for the session stream's `study.progress` events.

A study's trials and state are written by its driver (or its stop by a request), not
by scenario changes the stream sees: so whoever changes them records a `study.changed`
change (subject: the study's id, no payload) in the session's feed. The stream does
not send that change as it is; it gathers the studies named and sends each one's
progress (`service.progress_of`), coalesced (see `algomancy_api.batch_events`). Being
a stored change, it reaches the streams of every server process sharing the store.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from algomancy_core.studies.book import StudyRecord

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager
    from algomancy_core.studies.steps import Step

#: The change that says a study's trials or state changed (not sent on streams as it is).
CHANGED = "study.changed"


def changed(manager: ScenarioManager, study_id: str) -> None:
    """Record that the study's counts, best trial or status may have changed."""
    manager._runtime.changes.record(manager.session_id, CHANGED, study_id, {})


def _shape(step: Step) -> tuple[object, ...]:
    """What a step changes that a follower sees: trials and their states, the status."""
    record = step.record
    trials = tuple((t.number, t.state) for t in step.trials)
    return (record.state, record.stop_requested, trials)


def stepped(step: Step, now: datetime) -> StudyRecord:
    """Run `step`; when it told or started a trial or changed the study's status,
    record `study.changed` (also when it stopped half way: what it wrote stays)."""
    before = _shape(step)
    try:
        return step.run(now)
    finally:
        if _shape(step) != before:
            changed(step.manager, step.record.id)
