"""Dependencies of the routers (`Annotated` aliases), and the two the reference's
"Extending the API" page tells you to reuse (`algomancy_api.dependencies`).

They are `async` so that FastAPI calls them on the event loop: none of them blocks
(a session lookup runs where the store says its reads belong, see
`SessionManager.read`).

Who the caller is (`current_caller`) is decided in one place: the user
`UserContextMiddleware` put in the scope (None when authentication is off), and
whether they are one of `admin_users`. Every route that needs it asks for it with
`CallerDep`, the status poll included; FastAPI makes it once per request however
many dependencies ask for it. It is cheap: `async` (no worker-thread hop, which a
sync `def` dependency would cost), a dictionary read and, with authentication on, a
set lookup. What FastAPI adds to solve it (a nested `solve_dependencies`, ~12 us of
a ~72 us poll in process, whatever the dependency's signature) the status poll's
route class skips: see `algomancy_api.leafdeps`.
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


@dataclass(frozen=True)
class Caller:
    """Who the request acts for, and whether they are one of `admin_users`."""

    user: str | None
    admin: bool


#: The caller while authentication is off.
ANONYMOUS = Caller(None, False)


async def current_caller(request: Request) -> Caller:
    """The request's caller (see the module's docstring)."""
    # From the scope: `request.state` answers a missing attribute with an exception.
    user: str | None = request.scope.get("state", {}).get("user")
    if user is None:
        return ANONYMOUS
    config: ApiConfiguration = request.app.state.config
    return Caller(user, user in config.admin_users)


SessionsDep = Annotated[SessionManager, Depends(get_sessions)]
ConfigDep = Annotated[ApiConfiguration, Depends(get_config)]
SessionIdPath = Annotated[str, Path(description="The session's UUID, or its current display name.")]


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


SessionOwnerDep = Annotated[str | None, Depends(session_owner)]


async def get_manager(
    session_id: SessionIdPath, sessions: SessionsDep, owner: SessionOwnerDep
) -> ScenarioManager:
    return await manager_for(sessions, session_id, owner)


async def manager_for(
    sessions: SessionManager, session_id: str, owner: str | None
) -> ScenarioManager:
    """What `ManagerDep` gives, from the session's owner: for the hot reads
    (the scenario list), where FastAPI's solving of its four dependencies was a
    fifth of the server's time per request."""
    manager = await sessions.read(sessions.get_session, session_id, owner)
    # A write's audit names the session by id, also when the path gave its name.
    audit_subject(session_id=manager.session_id)
    return manager


ManagerDep = Annotated[ScenarioManager, Depends(get_manager)]


def get_session_manager(request: Request) -> SessionManager:
    """The `SessionManager` that `ApiLauncher.build` put on `app.state`."""
    sessions: SessionManager = request.app.state.sessions
    return sessions


async def get_scenario_manager(
    session_id: SessionIdPath, sessions: SessionsDep, owner: SessionOwnerDep
) -> ScenarioManager:
    """The `ScenarioManager` of the session named in the path (404 if unknown)."""
    return await get_manager(session_id, sessions, owner)
