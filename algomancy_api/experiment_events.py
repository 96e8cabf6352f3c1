"""`experiment.progress` on a session's stream: after a change of one of an
experiment's scenarios, its counts by status (as `GET …/experiments/{id}` answers).

A `BatchKind` of `batch_events.BatchProgress`: the scenarios changed are gathered,
and at most once every `batch_events.PROGRESS_SECONDS` the experiments owning any of them are
read (one query for the session's experiments, one for its scenarios) and each gets
one event, `{kind, session_id, subject, at, experiment: {id, name, status, counts}}`,
without `id:`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from algomancy_api.batch_events import BatchKind
from algomancy_core.changes import Change
from algomancy_core.experiments.progress import touched_by
from algomancy_core.scenario_manager import ScenarioManager

KIND = "experiment.progress"


def _subject(change: Change) -> str | None:
    """A scenario whose status changed (progress ticks do not count)."""
    if change.kind.startswith("scenario.") and change.kind != "scenario.progress":
        return change.subject
    return None


def _read(manager: ScenarioManager, scenario_ids: Collection[str]) -> list[dict[str, Any]]:
    return touched_by(manager, scenario_ids)


EXPERIMENTS = BatchKind(KIND, "experiment", _subject, _read)
