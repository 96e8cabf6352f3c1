"""A scenario archive: download one complete scenario as a zip, import one into a
session (see `algomancy_api.archive`)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from algomancy_api.archive import (
    Archive,
    ArchiveTooLarge,
    ArchiveUnusable,
    build_archive,
    read_archive,
)
from algomancy_api.audit import audited
from algomancy_api.deps import ConfigDep, ManagerDep
from algomancy_api.models import ScenarioOut
from algomancy_api.views import scenario_view
from algomancy_core import ConflictError, InvalidInputError, NotFoundError, ScenarioManager
from algomancy_core.scenario import ScenarioStatus

router = APIRouter(prefix="/sessions/{session_id}", tags=["scenarios"])

ZIP = "application/zip"


@router.get(
    "/scenarios/{scenario_id}/archive",
    summary="Download a scenario archive",
    response_class=Response,
    responses={
        200: {
            "description": "A zip: manifest.json, dataset.json, result.json and "
            "tables/{name}.json (see Sharing a scenario in the decisions page).",
            "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
        },
        404: {"description": "No such session or scenario."},
        409: {"description": "The scenario is not complete: only finished runs are archived."},
    },
)
def download_archive(scenario_id: str, manager: ManagerDep) -> Response:
    """The scenario, its pinned dataset version, result, KPIs, result tables and
    lineage as one zip, to import into another session or server."""
    record = manager.get_scenario(scenario_id)
    if record.status is not ScenarioStatus.COMPLETE:
        raise ConflictError(
            f"scenario {record.tag!r} is {record.status}, not complete: "
            "only a complete scenario is archived"
        )
    payload = build_archive(manager, record)
    return Response(
        payload,
        media_type=ZIP,
        headers={"Content-Disposition": _attachment(f"{record.tag}.zip")},
    )


def _attachment(name: str) -> str:
    """A `Content-Disposition` value: an ASCII fallback name and the exact UTF-8 one."""
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_. ") else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.post(
    "/scenarios/import",
    response_model=ScenarioOut,
    status_code=status.HTTP_201_CREATED,
    summary="Import a scenario archive",
    responses={
        400: {
            "description": "The body is not a scenario archive this server can take (not "
            "a zip, no manifest, ..., another format version, an algorithm it lacks)."
        },
        409: {"description": "The tag is taken in this session (give another with `tag`)."},
        413: {"description": "The body, or an archive member inflated, is over a size limit."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The zip, as the raw body (`application/zip`) or as the "
            "`file` part of a multipart form.",
            "content": {
                ZIP: {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
    dependencies=[audited("scenario.import")],
)
async def import_archive(
    request: Request,
    manager: ManagerDep,
    config: ConfigDep,
    tag: Annotated[
        str | None,
        Query(min_length=1, description="The new scenario's tag."),
    ] = None,
) -> dict[str, Any]:
    """Store the archive's dataset (a new version, or the version with the same
    content digest), and its scenario as complete, with the same parameters, data
    parameters, seed, result and KPIs: the same fingerprint as the original."""
    payload = await _body(request)
    if len(payload) > config.max_file_bytes:
        raise HTTPException(
            413,
            f"the archive has {len(payload)} bytes; the limit (max_file_bytes) is "
            f"{config.max_file_bytes}",
        )
    try:
        archive = await run_in_threadpool(
            read_archive,
            payload,
            max_member_bytes=config.max_file_bytes,
            max_total_bytes=config.max_xlsx_decompressed_bytes,
            data_type=config.data_object_type,
        )
    except ArchiveTooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    except ArchiveUnusable as exc:
        raise HTTPException(400, str(exc)) from None
    record = await run_in_threadpool(_store, manager, archive, tag)
    return scenario_view(manager, record)


async def _body(request: Request) -> bytes:
    """The zip's bytes: the `file` part of a multipart form, or the raw body."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        return await request.body()
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInputError("the multipart form has no 'file' part holding the archive")
    try:
        return await upload.read()
    finally:
        await form.close()


def _store(manager: ScenarioManager, archive: Archive, tag: str | None) -> Any:
    manifest = archive.manifest
    name = manifest["algorithm"]["name"]
    try:
        manager.algorithm(name)
    except NotFoundError:
        raise HTTPException(
            400, f"the archive's algorithm {name[:80]!r} is not one this server has"
        ) from None
    return manager.import_scenario(
        tag or manifest["tag"],
        archive.dataset,
        name,
        manifest["parameters"],
        manifest["data_parameters"],
        seed=manifest.get("seed"),
        result=archive.result,
        kpis=manifest["kpis"],
        tables=archive.tables,
    )
