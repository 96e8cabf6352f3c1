"""Dependencies shared by the routers (`Annotated` aliases).

They are `async` so that FastAPI calls them on the event loop: none of them blocks
(a session lookup runs where the store says its reads belong, see
`SessionManager.read`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from algomancy_api.config import ApiConfiguration
from algomancy_core import ScenarioManager, SessionManager
from algomancy_core.audit import audit_subject


async def get_sessions(request: Request) -> SessionManager:
    sessions: SessionManager = request.app.state.sessions
    return sessions


async def get_config(request: Request) -> ApiConfiguration:
    config: ApiConfiguration = request.app.state.config
    return config


async def current_owner(request: Request) -> str | None:
    """The user the request acts for, or None when authentication is off."""
    # From the scope: `request.state` answers a missing attribute with an exception.
    user: str | None = request.scope.get("state", {}).get("user")
    return user


SessionsDep = Annotated[SessionManager, Depends(get_sessions)]
ConfigDep = Annotated[ApiConfiguration, Depends(get_config)]
OwnerDep = Annotated[str | None, Depends(current_owner)]
SessionIdPath = Annotated[str, Path(description="The session's UUID, or its current display name.")]


@dataclass(frozen=True)
class Caller:
    """Who the request acts for, and whether they are one of `admin_users`."""

    user: str | None
    admin: bool


async def current_caller(owner: OwnerDep, config: ConfigDep) -> Caller:
    return Caller(owner, owner is not None and owner in config.admin_users)


CallerDep = Annotated[Caller, Depends(current_caller)]


async def owner_in_session(sessions: SessionManager, session_id: str, caller: Caller) -> str | None:
    """The owner under whom `session_id` is looked up: the caller, or for an
    administrator, the owner of the session they name (see `owner_for`)."""
    if not caller.admin:
        return caller.user
    return await sessions.read(sessions.owner_for, session_id, caller.user)


async def session_owner(
    session_id: SessionIdPath, sessions: SessionsDep, caller: CallerDep
) -> str | None:
    return await owner_in_session(sessions, session_id, caller)


async def request_context(request: Request, session_id: str) -> tuple[SessionManager, str | None]:
    """The session manager and the owner `session_id` is looked up under, read from
    the request itself: what `SessionsDep` and `SessionOwnerDep` give, without
    FastAPI's dependency solving (a third of a poll's time in the server)."""
    sessions: SessionManager = request.app.state.sessions
    config: ApiConfiguration = request.app.state.config
    user: str | None = request.scope.get("state", {}).get("user")
    caller = Caller(user, user is not None and user in config.admin_users)
    return sessions, await owner_in_session(sessions, session_id, caller)


SessionOwnerDep = Annotated[str | None, Depends(session_owner)]


async def get_manager(
    session_id: SessionIdPath, sessions: SessionsDep, owner: SessionOwnerDep
) -> ScenarioManager:
    manager = await sessions.read(sessions.get_session, session_id, owner)
    # A write's audit names the session by id, also when the path gave its name.
    audit_subject(session_id=manager.session_id)
    return manager


ManagerDep = Annotated[ScenarioManager, Depends(get_manager)]
