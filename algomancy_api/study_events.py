"""`study.progress` on a session's stream: after a study's trial ends or starts, or
its status changes (the `study.changed` change its driver or its stop records), its
status, counts and best trial (one objective) or Pareto set's size (several).

A `BatchKind` of `batch_events.BatchProgress`, coalesced as `experiment.progress`
is: `{kind, session_id, subject, at, study: {id, name, status, ended_by, counts,
best, pareto_size}}`, without `id:`, at most one per study a second per stream and
one with its final state. `study.changed` itself is not sent (`HIDDEN`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from algomancy_api.batch_events import BatchKind
from algomancy_core.changes import Change
from algomancy_core.scenario_manager import ScenarioManager
from algomancy_core.studies import progress, service

KIND = "study.progress"
#: Changes a session's stream reads but does not send.
HIDDEN = frozenset({progress.CHANGED})


def _subject(change: Change) -> str | None:
    return change.subject if change.kind == progress.CHANGED else None


def _read(manager: ScenarioManager, study_ids: Collection[str]) -> list[dict[str, Any]]:
    return service.progress_of(manager, study_ids)


STUDIES = BatchKind(KIND, "study", _subject, _read)
