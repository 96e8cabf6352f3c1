"""The change feed: every change of a session, numbered, for live streams.

Each change (a scenario created, queued, started, progressed, finished, reset or
deleted; a dataset added, replaced or deleted; the session renamed or deleted; its
baseline pinned or unpinned) is appended to the store with a number (`seq`) greater
than every earlier one, in every session. A stream follows one session from any `seq`
on; several processes sharing a SQL store share one feed. The store keeps the latest `CHANGES_KEPT`
changes; a stream that asks for older ones is told to reload (`reset`).
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

from algomancy_core.events import scenario_event
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus

log = logging.getLogger("algomancy.changes")

#: Changes the store keeps (all sessions together); older ones are pruned.
CHANGES_KEPT = 10_000
#: Every `PRUNE_EVERY`th seq, its append also deletes changes older than the latest
#: `CHANGES_KEPT` (a decision every process makes alike, from the seq alone).
PRUNE_EVERY = 256

#: A change to append: `(session_id, kind, subject, payload)`.
ChangeEntry = tuple[str, str, str, dict[str, Any]]

#: The kind of change a scenario's move to each status is.
STATUS_KINDS: dict[ScenarioStatus, str] = {
    ScenarioStatus.CREATED: "scenario.reset",
    ScenarioStatus.QUEUED: "scenario.queued",
    ScenarioStatus.PROCESSING: "scenario.started",
    ScenarioStatus.COMPLETE: "scenario.complete",
    ScenarioStatus.FAILED: "scenario.failed",
}

#: Every kind a change may be.
KINDS = (
    "scenario.created",
    *STATUS_KINDS.values(),
    "scenario.progress",
    "scenario.deleted",
    "dataset.added",
    "dataset.replaced",
    "dataset.deleted",
    "session.renamed",
    "session.deleted",
    "baseline.pinned",
    "baseline.unpinned",
    # A study's trials or status changed: streams read it, and send `study.progress`.
    "study.changed",
)


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One entry of the feed."""

    seq: int
    session_id: str
    kind: str
    #: The scenario id, dataset key or session id the change is about.
    subject: str
    #: A small JSON object: what a follower shows without reading the store again.
    payload: dict[str, Any]
    at: datetime

    def event(self) -> dict[str, Any]:
        """The change as a stream sends it (`data` of the SSE event)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "session_id": self.session_id,
            "subject": self.subject,
            "at": self.at.isoformat(),
            **self.payload,
        }


def scenario_payload(record: ScenarioRecord) -> dict[str, Any]:
    """What a change of a scenario tells about it: what its own stream tells."""
    return {"scenario": scenario_event(record)}
