"""Operations: the web app's settings and logo (public), the recent log (admins)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from algomancy_api.appsettings import LOGO_TYPES, settings_payload
from algomancy_api.deps import CallerDep, ConfigDep
from algomancy_api.logbuffer import log_buffer

#: Under the API prefix: the log, for `admin_users` only.
router = APIRouter(tags=["admin"])
#: Beside `/health`: what the web app needs before anyone signs in.
app_router = APIRouter(tags=["platform"])


class AppFeatures(BaseModel):
    session_picker: bool
    parameter_upload: bool


class AppSettings(BaseModel):
    title: str = Field(description="`app_title`, or the configuration's `title`.")
    logo: bool = Field(description="True when `app_logo` is set: the image is at `/app/logo`.")
    accent: str | None = Field(description="`app_accent`, a CSS colour, or null.")
    features: AppFeatures


class LogLine(BaseModel):
    seq: int = Field(description="1 for the first line the server kept, counting up.")
    time: str
    level: str
    logger: str
    message: str


class LogLines(BaseModel):
    lines: list[LogLine] = Field(description="Oldest first.")
    total: int = Field(description="Lines kept since the server started (`seq` of the last).")
    capacity: int = Field(description="Lines kept at most (`admin_log_lines`).")


@app_router.get("/app/settings", response_model=AppSettings, summary="The web app's settings")
def app_settings(config: ConfigDep) -> dict[str, Any]:
    """Title, whether there is a logo, accent colour and feature switches, from the
    configuration (`app_title`, `app_logo`, `app_accent`, `app_features`); never
    needs credentials."""
    return settings_payload(
        config.title, config.app_title, config.app_logo is not None, config.app_accent,
        config.app_features,
    )  # fmt: skip


@app_router.get(
    "/app/logo",
    summary="The web app's logo",
    response_class=Response,
    responses={
        200: {"content": {media: {} for media in sorted(set(LOGO_TYPES.values()))}},
        404: {"description": "No `app_logo` is configured."},
    },
)
def app_logo(request: Request, config: ConfigDep) -> Response:
    """The image file `app_logo` names; never needs credentials."""
    if config.app_logo is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no app_logo is configured")
    cached: bytes | None = getattr(request.app.state, "logo", None)
    if cached is None:
        cached = Path(config.app_logo).expanduser().read_bytes()
        request.app.state.logo = cached
    media = LOGO_TYPES[Path(config.app_logo).suffix.lower()]
    return Response(cached, media_type=media, headers={"Cache-Control": "max-age=300"})


@app_router.get(
    "/app/modules/{package}/{path:path}",
    summary="A result view's ES module",
    response_class=Response,
    responses={
        200: {"content": {"text/javascript": {}}},
        404: {"description": "No result view of this server has this module."},
    },
)
def result_view_module(package: str, path: str, request: Request) -> Response:
    """The ES module a `module` result view names (`package:path`), read from the
    domain's package; only modules the configured algorithms' views name are
    served. Never needs credentials (it is code, not data)."""
    modules: dict[tuple[str, str], bytes] = request.app.state.result_modules
    body = modules.get((package, path))
    if body is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no result view module {package}:{path}")
    return Response(
        body, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


@router.get(
    "/admin/logs",
    response_model=LogLines,
    summary="Recent log lines (admins)",
    responses={403: {"description": "The caller is not one of `admin_users`."}},
)
def admin_logs(
    caller: CallerDep,
    config: ConfigDep,
    level: Annotated[
        Literal["debug", "info", "warning", "error", "critical"] | None,
        Query(description="Only lines at this level or above."),
    ] = None,
    contains: Annotated[
        str | None, Query(max_length=200, description="Only lines whose message holds this.")
    ] = None,
    logger: Annotated[
        str | None,
        Query(max_length=200, description="Only lines of loggers whose name starts so."),
    ] = None,
    after: Annotated[
        int, Query(ge=0, le=2**53 - 1, description="Only lines after this `seq`.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=5000, description="The newest this many.")] = 200,
) -> dict[str, Any]:
    """The newest `limit` of the last `admin_log_lines` lines the server logged (ours
    and uvicorn's, at the levels they are logged at), filtered; for `admin_users`
    only: anyone else gets 403."""
    if not caller.admin:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "the log is for administrators (admin_users) only"
        )
    buffer = log_buffer(config.admin_log_lines)
    return buffer.lines(level=level, contains=contains, logger=logger, after=after, limit=limit)
