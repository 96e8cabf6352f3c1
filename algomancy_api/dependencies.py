"""The dependencies the reference's "Extending the API" page tells you to reuse.

`get_session_manager` gives the app's `SessionManager`; `get_scenario_manager`
resolves the `{session_id}` path parameter (UUID or current display name) to that
session's `ScenarioManager`, 404 when there is none (or it belongs to another user
when authentication is on). Use them with `Depends(...)` in your own routers.
"""

from __future__ import annotations

from fastapi import Request

from algomancy_api.deps import SessionIdPath, current_caller, get_manager, session_owner
from algomancy_core import ScenarioManager, SessionManager


def get_session_manager(request: Request) -> SessionManager:
    """The `SessionManager` that `ApiLauncher.build` put on `app.state`."""
    sessions: SessionManager = request.app.state.session_manager
    return sessions


async def get_scenario_manager(request: Request, session_id: SessionIdPath) -> ScenarioManager:
    """The `ScenarioManager` of the session named in the path (404 if unknown)."""
    user: str | None = request.scope.get("state", {}).get("user")
    sessions = request.app.state.session_manager
    caller = await current_caller(user, request.app.state.config)
    owner = await session_owner(session_id, sessions, caller)
    return await get_manager(session_id, sessions, owner)


__all__ = ["get_scenario_manager", "get_session_manager"]
