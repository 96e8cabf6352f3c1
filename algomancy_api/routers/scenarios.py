"""Scenarios: create, list, get, delete, run, cancel, status, processing, events,
result tables (frames and downloads)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent

from algomancy_api.audit import audited
from algomancy_api.deps import (
    CallerDep,
    ConfigDep,
    ManagerDep,
    SessionIdPath,
    manager_for,
    owner_in_session,
)
from algomancy_api.disconnect import StreamHold, follow_until_gone
from algomancy_api.exports import DOWNLOAD_ANSWERS, ExportFormat, export_response
from algomancy_api.frames import FRAME_OPENAPI_EXTRA, TabularFrameResponse
from algomancy_api.leafdeps import ConnectionDependencyRoute
from algomancy_api.listing import ScenarioListCache
from algomancy_api.listroute import KeptListRoute, list_request
from algomancy_api.models import (
    CreateScenario,
    ScenarioOut,
    ScenarioStatusOut,
    ScenarioSummary,
    TableList,
)
from algomancy_api.routers import JSON, MAX_OFFSET, Limit, Offset, Responses
from algomancy_api.views import (
    scenario_view,
    table_frame,
    table_list,
)
from algomancy_core import NotFoundError, ScenarioManager, ScenarioRecord, SessionManager
from algomancy_core.events import scenario_event

router = APIRouter(prefix="/sessions/{session_id}", tags=["scenarios"])
#: The status poll alone: `ApiLauncher.build` puts its route on the app itself, first
#: of all (`add_at_top`), not inside an included router (see `add_at_top` for why).
#: Its route class calls `CallerDep` without FastAPI's nested solve (`leafdeps`).
polls = APIRouter(
    prefix="/sessions/{session_id}", tags=["scenarios"], route_class=ConnectionDependencyRoute
)

#: The scenario list alone, also on the app itself (`add_at_top`, after the poll): its
#: route class answers a kept answer before FastAPI's handler (`listroute`).
lists = APIRouter(prefix="/sessions/{session_id}", tags=["scenarios"], route_class=KeptListRoute)

NOT_FOUND: Responses = {404: {"description": "No such session or scenario."}}


@polls.get(
    "/scenarios/{scenario_id}/status",
    response_model=ScenarioStatusOut,
    summary="Poll a scenario's status",
    responses=NOT_FOUND,
)
async def scenario_status(
    request: Request, session_id: SessionIdPath, scenario_id: str, caller: CallerDep
) -> dict[str, Any]:
    """Just `{id, tag, status, progress}`: cheap enough to poll often."""
    sessions: SessionManager = request.app.state.sessions
    owner = await owner_in_session(sessions, session_id, caller)
    found = await sessions.scenario_progress_async(session_id, scenario_id, owner)
    # Validated and encoded by the response model (pydantic's JSON encoder, in Rust),
    # as issue 22 asks of every route: an OrjsonResponse of the same dict saved 29 of
    # the poll's ~470 Python calls (`python -m benchmarks.profile_poll 20000
    # cprofile`), too little to answer beside the model. The caller comes by
    # dependency injection like every route's (`CallerDep`).
    return {
        "id": found.id,
        "tag": found.tag,
        "status": found.status.value,
        "progress": found.progress,
    }


#: Paging of the scenario list (as `GET /sessions` pages the session list).
ListLimit = Annotated[
    int | None, Query(ge=1, le=100_000, description="How many scenarios at most.")
]
ListOffset = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description="Scenarios to skip (oldest first).")
]


@lists.get(
    "/scenarios",
    response_model=list[ScenarioOut] | list[ScenarioSummary],
    summary="List scenarios",
)
async def list_scenarios(
    request: Request,
    session_id: SessionIdPath,
    caller: CallerDep,
    view: Annotated[
        Literal["full", "summary"],
        Query(
            description="`full` (default): the scenarios in full. `summary`: the "
            "reference's light summary, read without results or datasets."
        ),
    ] = "full",
    fingerprint: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only the scenarios whose run fingerprint is this one: the runs "
            "of the same thing.",
        ),
    ] = None,
    limit: ListLimit = None,
    offset: ListOffset = 0,
) -> Response:
    """Every scenario of the session, oldest first (with `fingerprint`, those of it).
    With `limit` or `offset`, one page of that list: `limit` scenarios at most after
    skipping `offset`."""
    # Written by orjson from the views (the response model documents them), each
    # scenario's view kept by version: see `algomancy_api.listing`. The session is
    # read here from the one caller dependency: `ManagerDep`'s solving of four was a
    # fifth of the server's time for a kept listing.
    cache: ScenarioListCache = request.app.state.scenario_lists
    sessions: SessionManager = request.app.state.sessions
    stamp, body = None, None
    request_key = list_request(request, caller)
    if sessions.runtime.store.inline_reads:
        # The same request at the same change stamp: its answer, the session unread
        # (`KeptListRoute` asks the same before FastAPI's handler; here for a request
        # that comes with dependency overrides).
        stamp, body = cache.answered(sessions.runtime.store, request_key)
        if body is not None:
            return Response(body, media_type=JSON)
    owner = await owner_in_session(sessions, session_id, caller)
    manager = await manager_for(sessions, session_id, owner)
    asked = (manager, view, fingerprint, limit, offset)
    # An unchanged listing is answered on the event loop when the store reads without
    # waiting (no thread hop); one with views to write goes to a worker thread.
    body = await sessions.read(cache.kept_listing, *asked)
    if body is None:
        body = await run_in_threadpool(cache.listing, *asked)
    cache.note_answer(stamp, request_key, body)
    return Response(body, media_type=JSON)


@router.post(
    "/scenarios",
    response_model=ScenarioOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a scenario",
    responses={
        400: {
            "description": "A parameter value failed validation: "
            '`{"detail": "duration: must be ...", "parameter": "duration"}` '
            "(`parameter` is null when the message is about the set, e.g. an unknown name)."
        },
        404: {"description": "Unknown session, algorithm, dataset or dataset version."},
        409: {"description": "The tag is taken in this session."},
    },
    dependencies=[audited("scenario.create")],
)
def create_scenario(body: CreateScenario, manager: ManagerDep) -> dict[str, Any]:
    """Bind a dataset, an algorithm and parameter values into a runnable scenario
    (status `created`; KPI values and result null)."""
    record = manager.create_scenario(
        body.tag,
        body.dataset_key,
        body.algo_name,
        body.algo_params,
        body.data_params,
        dataset_version=body.dataset_version,
        seed=body.seed,
    )
    # A scenario just made is no session's pinned baseline: no read of the pin (one
    # read fewer per create on SQL, "11 create+run+complete, HTTP: SQLite / in memory").
    return scenario_view(manager, record, pinned=None)


@router.get(
    "/scenarios/{scenario_id}",
    response_model=ScenarioOut,
    summary="Get a scenario",
    responses=NOT_FOUND,
)
def get_scenario(scenario_id: str, manager: ManagerDep) -> dict[str, Any]:
    """The full scenario with KPIs and result."""
    return scenario_view(manager, manager.get_scenario(scenario_id))


@router.delete(
    "/scenarios/{scenario_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a scenario",
    responses=NOT_FOUND,
    dependencies=[audited("scenario.delete")],
)
def delete_scenario(scenario_id: str, manager: ManagerDep) -> Response:
    """Remove a scenario; a queued or running one is cancelled first."""
    manager.delete_scenario(scenario_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/scenarios/{scenario_id}/run",
    response_model=ScenarioOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run a scenario",
    responses=NOT_FOUND | {409: {"description": "Already queued or processing."}},
    dependencies=[audited("scenario.run")],
)
def run_scenario(scenario_id: str, manager: ManagerDep) -> dict[str, Any]:
    """Enqueue for processing and return at once with the scenario `queued`. A
    `complete` or `failed` scenario is run again (result and KPIs cleared). Poll
    `/status` or follow `/events` for progress."""
    # The baseline read with the scenario: one read fewer per run request on SQL,
    # "11 create+run+complete, HTTP: SQLite / in memory".
    queued, baseline = manager.run_scenario_and_baseline(scenario_id)
    return scenario_view(manager, queued, pinned=baseline)


@router.post(
    "/scenarios/{scenario_id}/reset",
    response_model=ScenarioOut,
    summary="Reset a scenario",
    responses=NOT_FOUND | {409: {"description": "Queued or processing."}},
    dependencies=[audited("scenario.reset")],
)
def reset_scenario(scenario_id: str, manager: ManagerDep) -> dict[str, Any]:
    """Back to `created`: result, KPI values, progress, error and run times cleared
    (the reference's route). A `created` scenario is answered as it is."""
    return scenario_view(manager, manager.reset_scenario(scenario_id))


@router.post(
    "/scenarios/{scenario_id}/cancel",
    response_model=ScenarioOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Cancel a scenario",
    responses=NOT_FOUND | {409: {"description": "Not queued or processing."}},
    dependencies=[audited("scenario.cancel")],
)
def cancel_scenario(scenario_id: str, manager: ManagerDep) -> dict[str, Any]:
    """A queued scenario fails at once with error `cancelled`; a processing one
    stops at its next progress report (thread executor) or is terminated (process
    and Dask executors), then fails with error `cancelled`."""
    return scenario_view(manager, manager.cancel_scenario(scenario_id))


@router.get(
    "/processing",
    response_model=ScenarioOut | None,
    summary="The scenario processing now",
)
def processing(manager: ManagerDep) -> dict[str, Any] | None:
    """The session's scenario in `processing`, or null."""
    record = manager.processing()
    return scenario_view(manager, record) if record is not None else None


@router.get(
    "/scenarios/{scenario_id}/result/tables",
    response_model=TableList,
    summary="List a result's tables",
    responses=NOT_FOUND | {409: {"description": "The scenario is not complete."}},
)
def list_result_tables(scenario_id: str, manager: ManagerDep) -> dict[str, Any]:
    """Name, row count and columns of each table the scenario's result exposes."""
    return table_list(manager.result_tables(scenario_id))


@router.get(
    "/scenarios/{scenario_id}/result/tables/{table}/frame",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="A result table as a tabular frame",
    responses=NOT_FOUND | {409: {"description": "The scenario is not complete."}},
    openapi_extra=FRAME_OPENAPI_EXTRA,
    tags=["frames"],
)
def result_table_frame(
    scenario_id: str,
    table: str,
    manager: ManagerDep,
    offset: Offset = 0,
    limit: Limit = 1000,
) -> Response:
    """Rows `offset` to `offset + limit` of a result table, as `core.tabular_frame@v1`."""
    record = manager.get_scenario(scenario_id)
    body = table_frame(
        manager.result_tables(scenario_id),
        table,
        kind="scenario-result",
        source_id=f"{scenario_id}/{table}",
        label=f"{record.tag} / {table}",
        offset=offset,
        limit=limit,
    )
    return Response(body, media_type=JSON)


@router.get(
    "/scenarios/{scenario_id}/result/tables/{table}/download",
    summary="Download a result table as CSV or XLSX",
    response_class=Response,
    responses=NOT_FOUND
    | DOWNLOAD_ANSWERS
    | {409: {"description": "The scenario is not complete."}},
)
def download_result_table(
    scenario_id: str,
    table: str,
    manager: ManagerDep,
    config: ConfigDep,
    format: Annotated[ExportFormat, Query(description="`csv` or `xlsx`.")] = ExportFormat.csv,
) -> Response:
    """A whole result table as a UTF-8 CSV file or an XLSX workbook with one sheet,
    escaped as dataset downloads are: text cells starting with `=`, `+`, `-`, `@`, a
    tab or a carriage return get a leading `'`. The file is named `{tag}-{table}`."""
    record = manager.get_scenario(scenario_id)
    tables = manager.result_tables(scenario_id)
    if table not in tables.list_tables():
        listed = ", ".join(tables.list_tables()) or "none"
        raise NotFoundError(
            f"scenario {record.tag!r} has no result table {table!r} (tables: {listed})"
        )
    frame = tables.get_table(table)
    stem = f"{record.tag}-{table}"
    return export_response(frame, table, format, stem, config.max_xlsx_export_cells)


#: Idle time before a `: keep-alive` comment: under FastAPI's own 15 s ping, so
#: the comment a client sees stays `: keep-alive`, about every 15 s.
KEEP_ALIVE_SECONDS = 14.0
RECHECK_SECONDS = 0.5


async def followed_scenario(scenario_id: str, manager: ManagerDep) -> ScenarioRecord:
    """The scenario a stream follows, read before the stream starts (404 if absent)."""
    return await run_in_threadpool(manager.get_scenario, scenario_id)


@router.get(
    "/scenarios/{scenario_id}/events",
    summary="Follow a scenario (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses=NOT_FOUND
    | {
        200: {
            "description": "An event stream: one `status` event per change of status "
            "or progress (data: `{id, tag, status, progress, message, error}`), "
            "ending after a terminal state; `: keep-alive` comments while idle.",
            "content": {"text/event-stream": {}},
        }
    },
)
async def scenario_events(
    request: Request,
    scenario_id: str,  # read by `followed_scenario`; first here, as in every route's parameters
    manager: ManagerDep,
    first: Annotated[ScenarioRecord, Depends(followed_scenario)],
    hold: StreamHold,
    last_event_id: Annotated[str | None, Header()] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-Sent Events of status and progress until the scenario is complete or
    failed, from the start of its current run (a re-run does not replay the previous
    run). The event id is the scenario's version: reconnect with `Last-Event-ID` to
    resume without repeats."""
    try:
        resume_after = int(last_event_id) if last_event_id else -1
    except ValueError:
        resume_after = -1
    if request.app.state.config.metrics:
        from algomancy_api.metrics import SSE_STREAMS

        SSE_STREAMS.inc()
        hold.callback(SSE_STREAMS.dec)
    async for event in _follow(request, hold, manager, first, resume_after):
        yield event


async def _follow(
    request: Request,
    hold: StreamHold,
    manager: ScenarioManager,
    record: ScenarioRecord,
    sent_version: int,
) -> AsyncIterator[ServerSentEvent]:
    notifier = manager.notifier
    if sent_version < 0:
        # A new follower starts at the current run: the previous run's history (and
        # its `complete`) is not replayed after a re-run.
        run = notifier.current_run(record)
        sent_version = (run[0]["version"] if run else record.version) - 1
    idle = 0.0
    subscription, watcher = await follow_until_gone(hold, request, notifier.subscribe(record.id))
    while True:
        for event in notifier.history(record.id, after=sent_version):
            yield _sse(event)
            sent_version = event["version"]
        if record.version > sent_version:
            yield _sse(scenario_event(record))
            sent_version = record.version
        if record.status.is_terminal:
            return
        changed = await subscription.wait(RECHECK_SECONDS)
        if watcher.done():
            return
        idle = 0.0 if changed else idle + RECHECK_SECONDS
        if idle >= KEEP_ALIVE_SECONDS:
            idle = 0.0
            yield ServerSentEvent(comment="keep-alive")
        try:
            record = await asyncio.to_thread(manager.get_scenario, record.id)
        except LookupError:
            yield ServerSentEvent(event="deleted", raw_data="{}")
            return


def _sse(event: dict[str, Any]) -> ServerSentEvent:
    data = {k: v for k, v in event.items() if k != "version"}
    return ServerSentEvent(
        id=str(event["version"]), event="status", raw_data=orjson.dumps(data).decode()
    )
