"""Sessions: list, create, copy, rename, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status

from algomancy_api.deps import (
    Caller,
    CallerDep,
    ConfigDep,
    ManagerDep,
    SessionIdPath,
    SessionOwnerDep,
    SessionsDep,
)
from algomancy_api.models import (
    CopySession,
    CreateSession,
    RenameSession,
    SessionCreated,
    SessionItem,
    SessionList,
)
from algomancy_api.routers import MAX_OFFSET, Responses, json_response
from algomancy_core import SessionManager
from algomancy_core.stores.base import SessionRecord

router = APIRouter(prefix="/sessions", tags=["sessions"])

NOT_FOUND: Responses = {404: {"description": "No such session."}}
TAKEN: Responses = {409: {"description": "The display name is taken."}}
NOT_ALLOWED: Responses = {403: {"description": "Session creation is disabled on this server."}}


async def require_session_create_allowed(config: ConfigDep) -> None:
    """403 unless the configuration allows new sessions (`allow_session_create`)."""
    if not config.allow_session_create:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "Session creation is disabled on this server"
        )


CreateAllowed = [Depends(require_session_create_allowed)]


def session_list(sessions: SessionManager, caller: Caller) -> dict[str, Any]:
    """The caller's sessions, or every user's for an administrator (with `owner`)."""
    names, default = sessions.session_index(caller.user)
    if caller.admin:
        return {"sessions": admin_items(sessions.all_sessions(caller.user)), "default": default}
    return {
        "sessions": [{"id": id_, "display_name": name} for id_, name in names],
        "default": default,
    }


def admin_items(records: list[SessionRecord]) -> list[dict[str, Any]]:
    return [{"id": s.id, "display_name": s.display_name, "owner": s.owner} for s in records]


@router.get("", response_model=SessionList, summary="List sessions")
def list_sessions(
    sessions: SessionsDep,
    caller: CallerDep,
    limit: Annotated[
        int | None, Query(ge=1, le=100_000, description="How many sessions at most.")
    ] = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Sessions to skip (oldest first).")
    ] = 0,
) -> Response:
    """The caller's sessions (oldest first) and the id of the default one. With
    `limit` or `offset`, one page of the sessions (`default` still names the default
    session, wherever it is). An administrator (`admin_users`) gets every user's
    sessions, each with its `owner`."""
    if limit is None and offset == 0:
        return json_response(session_list(sessions, caller))
    if caller.admin:
        listing = session_list(sessions, caller)
        end = None if limit is None else offset + limit
        return json_response(listing | {"sessions": listing["sessions"][offset:end]})
    page, default = sessions.page_sessions(caller.user, limit, offset)
    items = [{"id": s.id, "display_name": s.display_name} for s in page]
    return json_response({"sessions": items, "default": default})


@router.post(
    "",
    response_model=SessionCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create a session",
    responses=TAKEN | NOT_ALLOWED,
    dependencies=CreateAllowed,
)
def create_session(body: CreateSession, sessions: SessionsDep, caller: CallerDep) -> Response:
    """Create an empty session (it starts with the configured initial datasets)."""
    created = sessions.create_session(body.display_name, caller.user)
    item = {"id": created.session_id, "display_name": created.display_name}
    return json_response(session_list(sessions, caller) | {"session": item}, 201)


@router.post(
    "/{session_id}/copy",
    response_model=SessionCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Copy a session",
    responses=NOT_FOUND | TAKEN | NOT_ALLOWED,
    dependencies=CreateAllowed,
)
def copy_session(
    session_id: SessionIdPath,
    body: CopySession,
    sessions: SessionsDep,
    owner: SessionOwnerDep,
    caller: CallerDep,
    source: ManagerDep,
) -> Response:
    """Copy datasets and scenarios: finished scenarios keep results and KPIs,
    queued or running ones arrive as `created`. The copy belongs to the session's
    owner (also when an administrator copies another user's session)."""
    # `source` (a dependency) answered 404 for another user's session before the
    # body was looked at.
    copied = sessions.copy_session(source.session_id, body.new_display_name, owner)
    item = {"id": copied.session_id, "display_name": copied.display_name}
    return json_response(session_list(sessions, caller) | {"session": item}, 201)


@router.patch(
    "/{session_id}",
    response_model=SessionItem,
    response_model_exclude_unset=True,
    summary="Rename a session",
    responses=NOT_FOUND | TAKEN,
)
def rename_session(
    session_id: SessionIdPath,
    body: RenameSession,
    sessions: SessionsDep,
    owner: SessionOwnerDep,
    current: ManagerDep,
) -> dict[str, Any]:
    """Change the display name; the id stays."""
    renamed = sessions.rename_session(current.session_id, body.display_name, owner)
    return {"id": renamed.id, "display_name": renamed.display_name}


@router.delete(
    "/{session_id}", response_model=SessionList, summary="Delete a session", responses=NOT_FOUND
)
def delete_session(
    session_id: SessionIdPath, sessions: SessionsDep, owner: SessionOwnerDep, caller: CallerDep
) -> Response:
    """Delete a session with its scenarios (running ones are cancelled), runs, KPIs
    and data. Deleting the last session leaves a fresh `main`."""
    sessions.delete_session(session_id, owner)
    return json_response(session_list(sessions, caller))
