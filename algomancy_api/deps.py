"""Dependencies shared by the routers (`Annotated` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from algomancy_api.config import ApiConfiguration
from algomancy_core import ScenarioManager, SessionManager


def get_sessions(request: Request) -> SessionManager:
    sessions: SessionManager = request.app.state.sessions
    return sessions


def get_config(request: Request) -> ApiConfiguration:
    config: ApiConfiguration = request.app.state.config
    return config


def current_owner(request: Request) -> str | None:
    """The user the request acts for, or None when authentication is off."""
    user: str | None = getattr(request.state, "user", None)
    return user


SessionsDep = Annotated[SessionManager, Depends(get_sessions)]
ConfigDep = Annotated[ApiConfiguration, Depends(get_config)]
OwnerDep = Annotated[str | None, Depends(current_owner)]
SessionIdPath = Annotated[str, Path(description="The session's UUID, or its current display name.")]


def get_manager(sid: SessionIdPath, sessions: SessionsDep, owner: OwnerDep) -> ScenarioManager:
    return sessions.get_session(sid, owner)


ManagerDep = Annotated[ScenarioManager, Depends(get_manager)]
