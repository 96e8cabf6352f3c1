"""Platform conventions: `/health` and `/me`."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Request

from algomancy_api.deps import ConfigDep, SessionsDep
from algomancy_api.models import Health, Me

router = APIRouter(tags=["platform"])


def package_version() -> str:
    try:
        return version("algomancy-api")
    except PackageNotFoundError:
        return "0+unknown"


@router.get("/health", response_model=Health, summary="Liveness")
def health(sessions: SessionsDep, config: ConfigDep) -> dict[str, Any]:
    """`{"status": "ok"}` while the server answers; never needs credentials."""
    return {
        "status": "ok",
        "title": config.title,
        "version": package_version(),
        "store": type(sessions.runtime.store).__name__,
        "executor": config.executor,
    }


@router.get("/me", response_model=Me, summary="Who am I")
def me(request: Request) -> dict[str, Any]:
    """The caller's identity as the server sees it (`anonymous` with auth off)."""
    user = getattr(request.state, "user", None)
    return {
        "id": user or "anonymous",
        "username": user or "anonymous",
        "authenticated": user is not None,
    }
