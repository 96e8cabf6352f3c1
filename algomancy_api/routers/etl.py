"""The ETL upload: `POST …/etl`, files in a multipart form run through the domain's
ETL (in this process or in the ETL child, `algomancy_api.etlchild`) and stored as a
dataset version."""

from __future__ import annotations

import functools
import threading
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from algomancy_api.audit import audited
from algomancy_api.config import ApiConfiguration
from algomancy_api.deadlines import Stopped, run_bounded
from algomancy_api.deps import CallerDep, ConfigDep, ManagerDep
from algomancy_api.etlchild import EtlChild, upload_source
from algomancy_api.models import NAME_SCHEMA, EtlOut
from algomancy_api.uploadform import UploadRoute
from algomancy_api.uploads import UploadNameError, clean_filename, sent_filename
from algomancy_api.webhooks import Webhooks
from algomancy_core import InvalidInputError, ScenarioManager
from algomancy_core.deliveries import ETL_FAILED
from algomancy_core.names import check_name
from algomancy_core.stores.base import DatasetVersion
from algomancy_data import ReadLimits
from algomancy_data.extractors import file_for
from algomancy_data.parsepool import cancel_event

router = APIRouter(prefix="/sessions/{session_id}", tags=["data"])


async def run_etl(
    request: Request,
    manager: ManagerDep,
    config: ConfigDep,
    caller: CallerDep,
    dataset_name: Annotated[
        str,
        Form(
            min_length=1,
            json_schema_extra=NAME_SCHEMA,
            description="Key of the resulting dataset.",
        ),
    ],
    files: Annotated[
        list[UploadFile],
        File(
            min_length=1,
            description="One part per file (at least one); the filename stem is the logical name.",
        ),
    ],
) -> dict[str, Any]:
    """Validate and load uploaded files (multipart form: `dataset_name`, and `files`
    repeated). On success the dataset is stored: as a new version when the name
    exists (scenarios on older versions keep their data; content identical to the
    latest version adds none). A failed ETL stores nothing and answers `success:
    false` with messages."""
    if not config.metrics:
        return await _checked_etl(request, manager, config, dataset_name, files, caller.user)
    try:
        answer = await _checked_etl(request, manager, config, dataset_name, files, caller.user)
    except Exception as exc:
        status = getattr(exc, "status_code", 400 if isinstance(exc, ValueError) else 500)
        _count_etl("refused" if status < 500 else "error")
        raise
    _count_etl("success" if answer["success"] else "failed")
    return answer


# The multipart body is parsed in memory (`algomancy_api.uploadform`), not spooled to disk.
router.add_api_route(
    "/etl",
    run_etl,
    methods=["POST"],
    response_model=EtlOut,
    summary="Run the ETL over uploaded files",
    responses={
        400: {
            "description": "No files uploaded, too many files, a file without a "
            "usable name, or an extension other than csv, json or xlsx."
        },
        413: {"description": "The upload, or one of its files, is over the size limit."},
        503: {
            "description": "The ETL took longer than `etl_timeout_seconds`, or the "
            "ETL child process died (`etl_in_child`): nothing was stored; retry."
        },
    },
    dependencies=[audited("dataset.etl")],
    route_class_override=UploadRoute,
)


async def _checked_etl(
    request: Request,
    manager: ScenarioManager,
    config: ApiConfiguration,
    dataset_name: str,
    files: list[UploadFile],
    creator: str | None,
) -> dict[str, Any]:
    if not files:  # no 'files' part at all is answered 400 before (errors.py)
        raise InvalidInputError("No files uploaded: send one or more 'files' parts")
    if len(files) > config.max_upload_files:
        raise InvalidInputError(
            f"{len(files)} files uploaded; the limit (max_upload_files) is "
            f"{config.max_upload_files}"
        )
    names = []
    for upload in files:
        if upload.size is not None and upload.size > config.max_file_bytes:
            raise HTTPException(
                413,
                f"an uploaded file has {upload.size} bytes; the limit (max_file_bytes) is "
                f"{config.max_file_bytes}",
            )
        try:
            names.append(clean_filename(sent_filename(upload)))
        except UploadNameError as exc:
            raise InvalidInputError(str(exc)) from None
    stems = [n.rsplit(".", 1)[0] for n in names]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise InvalidInputError(f"several uploads have the logical name {duplicates[0]!r}")
    limits = config.read_limits
    child: EtlChild | None = getattr(request.app.state, "etl_child", None)
    if child is not None:
        # Refused before the child is asked, as `etl_version` refuses it.
        dataset_name = check_name("dataset_name", dataset_name, config.max_name_chars)
    answer: dict[str, Any] = await run_bounded(
        request,
        config.etl_timeout_seconds,
        "etl_timeout_seconds",
        _etl if child is None else functools.partial(_etl_in_child, child),
        manager,
        dataset_name,
        files,
        names,
        limits,
        creator,
    )
    if not answer["success"]:
        event = {"session_id": manager.session_id, "dataset_name": dataset_name}
        webhooks: Webhooks = request.app.state.webhooks
        await run_in_threadpool(webhooks.notify, ETL_FAILED, event | {"files": names})
    return answer


def _count_etl(outcome: str) -> None:
    from algomancy_api.metrics import ETL_UPLOADS

    ETL_UPLOADS.labels(outcome).inc()


def _etl_in_child(
    child: EtlChild,
    manager: ScenarioManager,
    dataset_name: str,
    uploads: list[UploadFile],
    names: list[str],
    limits: ReadLimits,
    creator: str | None,
    stop: threading.Event,
) -> dict[str, Any]:
    # `_etl` with the files read and the ETL run in the child (`algomancy_api.etlchild`):
    # the server stores the packed dataset it sends back.
    sources = [(name, upload_source(upload)) for upload, name in zip(uploads, names, strict=True)]
    output = child.run(dataset_name, sources, limits, stop)
    if stop.is_set():
        raise Stopped()  # past the deadline before storing: nothing is stored
    stored = manager.store_etl_output(dataset_name, output.data, output.messages, creator=creator)
    return _etl_answer(manager, dataset_name, output.success, output.messages, stored)


def _etl(
    manager: ScenarioManager,
    dataset_name: str,
    uploads: list[UploadFile],
    names: list[str],
    limits: ReadLimits,
    creator: str | None,
    stop: threading.Event,
) -> dict[str, Any]:
    # Runs in a worker thread: reading spooled uploads and the ETL both block.
    # `stop` is set past etl_timeout_seconds or when the client leaves.
    files = {}
    for upload, name in zip(uploads, names, strict=True):
        if stop.is_set():
            raise Stopped()
        upload.file.seek(0)
        file = file_for(name, upload.file.read(), limits)
        files[file.name] = file
    if stop.is_set():
        raise Stopped()
    # The deadline or a client that leaves also stops its workbook parses (their
    # processes are killed).
    token = cancel_event.set(stop)
    try:
        result, stored = manager.etl_version(
            files, dataset_name, creator=creator, keep=lambda: not stop.is_set()
        )
    finally:
        cancel_event.reset(token)
    if stop.is_set() and stored is None:
        raise Stopped()  # past the deadline before storing: nothing was stored
    messages = [m.to_dict() for m in result.messages]
    return _etl_answer(manager, dataset_name, result.is_success, messages, stored)


def _etl_answer(
    manager: ScenarioManager,
    dataset_name: str,
    success: bool,
    messages: list[dict[str, Any]],
    stored: DatasetVersion | None,
) -> dict[str, Any]:
    """The upload's answer, whether its ETL ran here or in the child."""
    return {
        "dataset_name": dataset_name,
        "success": success,
        "keys": manager.list_datasets(),
        "messages": messages,
        "dataset_version": stored.version if stored is not None else None,
        "dataset_digest": stored.digest if stored is not None else None,
    }
