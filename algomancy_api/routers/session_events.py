"""The live stream of one session: every change in it, as Server-Sent Events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from algomancy_api.batch_events import BatchProgress
from algomancy_api.deps import ManagerDep
from algomancy_api.disconnect import StreamHold, follow_until_gone
from algomancy_api.experiment_events import EXPERIMENTS
from algomancy_api.study_events import HIDDEN, STUDIES
from algomancy_core import SessionManager
from algomancy_core.change_hub import BATCH, ChangeSubscription
from algomancy_core.changes import Change
from algomancy_core.stores.base import Store

router = APIRouter(prefix="/sessions/{session_id}", tags=["sessions"])

#: Idle time before a `: keep-alive` comment. Under FastAPI's own 15 s ping
#: (`fastapi.sse._PING_INTERVAL`), which therefore never fires on this stream: the
#: comment a client sees stays `: keep-alive`, about every 15 s.
KEEP_ALIVE_SECONDS = 14.0
#: How long a stream waits for changes before checking that its client is there.
RECHECK_SECONDS = 1.0

_DESCRIPTION = (
    "An event stream. Each change is one event: `id:` its sequence number, `event:` "
    "its kind (`scenario.created`, `scenario.queued`, `scenario.started`, "
    "`scenario.progress`, `scenario.complete`, `scenario.failed`, `scenario.reset`, "
    "`scenario.deleted`, `dataset.added`, `dataset.replaced`, `dataset.deleted`, "
    "`session.renamed`, `session.deleted`, `baseline.pinned`, `baseline.unpinned`), "
    "`data:` `{seq, kind, session_id, subject, at, ...}`. After a change of an "
    "experiment's scenarios, `experiment.progress` (no `id:`, at most one per "
    "experiment a second): `{kind, session_id, subject, at, experiment: {id, name, "
    "status, counts}}`. After a study's trial starts or ends or its status changes, "
    "`study.progress` (no `id:`, at most one per study a second): `{kind, session_id, "
    "subject, at, study: {id, name, status, ended_by, counts, best, pareto_size}}`. "
    "The stream starts with `open` (or, when `Last-Event-ID` is "
    "too old to replay, `reset`: reload, then follow on); `: keep-alive` comments "
    "while idle."
)


def resume_point(
    last_event_id: Annotated[
        str | None,
        Header(
            description="Resume after this event id: the changes after it are replayed "
            "(or `reset` is sent when they are no longer kept)."
        ),
    ] = None,
) -> int | None:
    """The event id to resume after (None: from now on); 400 before the stream
    starts for one that is not a non-negative integer."""
    if last_event_id is None or not last_event_id.strip():
        return None
    try:
        resume_after = int(last_event_id)
    except ValueError:
        resume_after = -1
    if resume_after < 0:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "Last-Event-ID must be a non-negative integer (an event id of this stream)",
        )
    return resume_after


@router.get(
    "/events",
    summary="Follow a session (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses={
        200: {"description": _DESCRIPTION, "content": {"text/event-stream": {}}},
        400: {"description": "`Last-Event-ID` is not a non-negative integer."},
        404: {"description": "No such session."},
    },
)
async def session_events(
    request: Request,
    manager: ManagerDep,
    resume_after: Annotated[int | None, Depends(resume_point)],
    hold: StreamHold,
    idle_timeout: Annotated[
        float | None,
        Query(
            gt=0,
            le=86_400,
            description="End the stream after this many seconds without a change "
            "(default: follow until the client leaves).",
        ),
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events of every change in the session, by any client and any
    server process sharing the store (seen within about a second)."""
    sessions: SessionManager = request.app.state.sessions
    async for event in _stream(
        request,
        hold,
        sessions,
        BatchProgress(manager, [EXPERIMENTS, STUDIES]),
        resume_after,
        idle_timeout,
    ):
        yield event


async def _stream(
    request: Request,
    hold: StreamHold,
    sessions: SessionManager,
    batches: BatchProgress,
    resume_after: int | None,
    idle_timeout: float | None,
) -> AsyncIterator[ServerSentEvent]:
    store = sessions.runtime.store
    session_id = batches.session_id
    subscription, watcher = await follow_until_gone(
        hold, request, sessions.runtime.changes.subscribe(session_id)
    )
    # Registered first: every change from now on reaches the subscription;
    # those before are replayed from the store, repeats skipped by seq.
    oldest, latest = await asyncio.to_thread(store.change_bounds)
    if resume_after is None:
        sent = latest
        yield _control("open", session_id, latest)
    elif resume_after > latest or (oldest > 0 and resume_after < oldest - 1):
        sent = latest
        yield _control("reset", session_id, latest, "Last-Event-ID is no longer kept")
    else:
        sent = resume_after
        while True:
            replay = await asyncio.to_thread(store.read_changes, sent, BATCH, session_id)
            for change in _coalesce(replay):
                if change.kind in HIDDEN:
                    continue
                yield _sse(change)
                if change.kind == "session.deleted":
                    return
            if replay:
                sent = replay[-1].seq
            if len(replay) < BATCH:
                break
    idle = 0.0
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    while True:
        wait = batches.wait(loop.time(), RECHECK_SECONDS)
        if idle_timeout is not None:
            left = quiet_since + idle_timeout - loop.time()
            if left <= 0:
                for event in await batches.due(loop.time(), force=True):
                    yield event
                return
            wait = min(wait, left)
        changes = await subscription.wait(wait)
        if watcher.done():
            return
        if subscription.overflowed:
            sent = await _recover(subscription, store)
            yield _control("reset", session_id, sent, "this stream fell behind")
            continue
        fresh = _coalesce([c for c in changes if c.seq > sent])
        for change in fresh:
            if change.kind in HIDDEN:  # read by `batches` only
                continue
            yield _sse(change)
            if change.kind == "session.deleted":
                return
        batches.note(fresh)
        for event in await batches.due(loop.time()):
            yield event
        if changes:
            sent = max(sent, changes[-1].seq)
            idle = 0.0
            quiet_since = loop.time()
        else:
            idle += wait
        if idle >= KEEP_ALIVE_SECONDS:
            idle = 0.0
            yield ServerSentEvent(comment="keep-alive")


async def _recover(subscription: ChangeSubscription, store: Store) -> int:
    """Drop what a subscription missed and start it again from the latest change."""
    subscription.recover()
    return (await asyncio.to_thread(store.change_bounds))[1]


def _coalesce(changes: list[Change]) -> list[Change]:
    """`changes` without the progress reports a later change of the same scenario
    in the same batch supersedes."""
    later: set[str] = set()
    kept: list[Change] = []
    for change in reversed(changes):
        if change.kind == "scenario.progress" and change.subject in later:
            continue
        later.add(change.subject)
        kept.append(change)
    kept.reverse()
    return kept


def _sse(change: Change) -> ServerSentEvent:
    return ServerSentEvent(
        id=str(change.seq), event=change.kind, raw_data=orjson.dumps(change.event()).decode()
    )


def _control(kind: str, session_id: str, seq: int, reason: str | None = None) -> ServerSentEvent:
    data: dict[str, Any] = {"seq": seq, "kind": kind, "session_id": session_id}
    if reason is not None:
        data["reason"] = reason
    return ServerSentEvent(id=str(seq), event=kind, raw_data=orjson.dumps(data).decode())
