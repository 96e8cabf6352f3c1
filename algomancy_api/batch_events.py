"""Progress of batches (experiments, studies) on a session's stream: one
`BatchProgress` per stream gathers, from the changes it sees, which batches of each
kind may have moved, and at most once every `PROGRESS_SECONDS` per kind reads those
and sends one event for each, with its state at that moment.

So a batch gets at most one event a second on a stream however many of its runs end,
and one with its final state after its last change (within about `PROGRESS_SECONDS`
plus the stream's recheck; a stream that ends flushes what it gathered). These
events are derived, not stored changes: they carry no `id:` (a reconnect resumes
after the last change) and are not replayed. Each kind is a `BatchKind`:
`experiment_events.EXPERIMENTS`, `study_events.STUDIES`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.sse import ServerSentEvent

from algomancy_core.changes import Change
from algomancy_core.errors import NotFoundError
from algomancy_core.scenario_manager import ScenarioManager

#: The least time between two rounds of one kind's events on one stream.
PROGRESS_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class BatchKind:
    """One kind of batch progress: the event's kind (`experiment.progress`), the
    field its batch goes in (`experiment`), which changes name what to read again
    (`subject`: an id, or None), and how to read them (`read`: one dict with an `id`
    per batch, blocking; run in a thread)."""

    kind: str
    field: str
    subject: Callable[[Change], str | None]
    read: Callable[[ScenarioManager, Collection[str]], list[dict[str, Any]]]


class _Pending:
    """A kind's gathered subjects and the time its next round may go."""

    def __init__(self, kind: BatchKind) -> None:
        self.kind = kind
        self.touched: set[str] = set()
        self.next = 0.0


class BatchProgress:
    """One stream's pending batch progress, for each of `kinds`."""

    def __init__(self, manager: ScenarioManager, kinds: Sequence[BatchKind]) -> None:
        self._manager = manager
        self._pending = [_Pending(k) for k in kinds]

    @property
    def session_id(self) -> str:
        return self._manager.session_id

    def note(self, changes: list[Change]) -> None:
        """Gather what `changes` name for each kind."""
        for change in changes:
            for pending in self._pending:
                subject = pending.kind.subject(change)
                if subject is not None:
                    pending.touched.add(subject)

    def wait(self, now: float, longest: float) -> float:
        """How long the stream may wait before `due` has something to send."""
        waits = [max(0.0, p.next - now) for p in self._pending if p.touched]
        return min([longest, *waits])

    async def due(self, now: float, *, force: bool = False) -> list[ServerSentEvent]:
        """The events to send now: none for a kind whose last round is too recent."""
        out: list[ServerSentEvent] = []
        for pending in self._pending:
            if not pending.touched or (now < pending.next and not force):
                continue
            touched, pending.touched = pending.touched, set()
            pending.next = now + PROGRESS_SECONDS
            try:
                found = await asyncio.to_thread(pending.kind.read, self._manager, touched)
            except NotFoundError:  # the session went meanwhile: its stream ends on its change
                continue
            out.extend(self._events(pending.kind, found))
        return out

    def _events(self, kind: BatchKind, found: list[dict[str, Any]]) -> list[ServerSentEvent]:
        at = datetime.now(UTC).isoformat()
        session_id = self._manager.session_id
        return [
            ServerSentEvent(
                event=kind.kind,
                raw_data=orjson.dumps(
                    {
                        "kind": kind.kind,
                        "session_id": session_id,
                        "subject": batch["id"],
                        "at": at,
                        kind.field: batch,
                    }
                ).decode(),
            )
            for batch in found
        ]
