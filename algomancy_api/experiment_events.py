"""`experiment.progress` on a session's stream: after a change of one of an
experiment's scenarios, its counts by status (as `GET …/experiments/{id}` answers).

Coalesced per stream: the scenarios changed are gathered, and at most once every
`PROGRESS_SECONDS` the experiments owning any of them are read (one query for the
session's experiments, one for its scenarios) and each gets one event with its
counts at that moment. So an experiment gets at most one event a second on a
stream however many of its points finish, and one with its final counts after
its last change (within about `PROGRESS_SECONDS` plus the stream's recheck).
These events are derived, not stored changes: they carry no `id:` (a reconnect
resumes after the last change) and are not replayed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import orjson
from fastapi.sse import ServerSentEvent

from algomancy_core.changes import Change
from algomancy_core.errors import NotFoundError
from algomancy_core.experiments.progress import touched_by
from algomancy_core.scenario_manager import ScenarioManager

#: The least time between two rounds of `experiment.progress` on one stream.
PROGRESS_SECONDS = 1.0
KIND = "experiment.progress"


class ExperimentProgress:
    """One stream's pending experiment progress."""

    def __init__(self, manager: ScenarioManager) -> None:
        self._manager = manager
        self._touched: set[str] = set()
        self._next = 0.0

    @property
    def session_id(self) -> str:
        return self._manager.session_id

    def note(self, changes: list[Change]) -> None:
        """Gather the scenarios whose status changed (progress ticks do not count)."""
        for change in changes:
            if change.kind.startswith("scenario.") and change.kind != "scenario.progress":
                self._touched.add(change.subject)

    def wait(self, now: float, longest: float) -> float:
        """How long the stream may wait before `due` has something to send."""
        if not self._touched:
            return longest
        return max(0.0, min(longest, self._next - now))

    async def due(self, now: float, *, force: bool = False) -> list[ServerSentEvent]:
        """The events to send now: none while the last round is too recent."""
        if not self._touched or (now < self._next and not force):
            return []
        touched, self._touched = self._touched, set()
        self._next = now + PROGRESS_SECONDS
        try:
            found = await asyncio.to_thread(touched_by, self._manager, touched)
        except NotFoundError:  # the session went meanwhile: its stream ends on its change
            return []
        at = datetime.now(UTC).isoformat()
        session_id = self._manager.session_id
        return [
            ServerSentEvent(
                event=KIND,
                raw_data=orjson.dumps(
                    {
                        "kind": KIND,
                        "session_id": session_id,
                        "subject": experiment["id"],
                        "at": at,
                        "experiment": experiment,
                    }
                ).decode(),
            )
            for experiment in found
        ]
