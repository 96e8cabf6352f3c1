"""Datasets: list, get, delete, derive, from JSON, tables and frames; the ETL upload."""

from __future__ import annotations

import functools
import threading
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.concurrency import run_in_threadpool

from algomancy_api.audit import audited
from algomancy_api.config import ApiConfiguration
from algomancy_api.deadlines import Stopped, run_bounded
from algomancy_api.deps import CallerDep, ConfigDep, ManagerDep
from algomancy_api.etlchild import EtlChild, upload_source
from algomancy_api.exports import DOWNLOAD_ANSWERS, ExportFormat, export_response
from algomancy_api.frames import FRAME_OPENAPI_EXTRA, TabularFrameResponse
from algomancy_api.models import (
    NAME_SCHEMA,
    AlgorithmParameters,
    DatasetDeletionOut,
    DatasetVersionList,
    DeriveDataset,
    EtlOut,
    KeyList,
    TableList,
)
from algomancy_api.routers import JSON, Limit, Offset, Responses, json_response
from algomancy_api.uploadform import UploadRoute
from algomancy_api.uploads import UploadNameError, clean_filename, sent_filename
from algomancy_api.views import table_frame, table_list, version_view
from algomancy_api.webhooks import Webhooks
from algomancy_core import InvalidInputError, NotFoundError, ScenarioManager
from algomancy_core.deliveries import ETL_FAILED
from algomancy_core.names import check_name
from algomancy_core.stores.base import DatasetVersion
from algomancy_data import ReadLimits
from algomancy_data.extractors import file_for
from algomancy_data.parsepool import cancel_event

router = APIRouter(prefix="/sessions/{session_id}", tags=["data"])


NOT_FOUND: Responses = {404: {"description": "No such session or dataset."}}

VersionQuery = Annotated[
    int | None,
    Query(ge=1, le=2**53 - 1, description="A dataset version (default: the latest)."),
]
NewVersion = Annotated[
    bool,
    Query(description="Store under an existing key as its new version instead of answering 409."),
]


@router.get("/data", response_model=KeyList, summary="List datasets")
def list_datasets(manager: ManagerDep) -> dict[str, list[str]]:
    """Dataset keys of the session, oldest first, as `{"keys": [...]}`."""
    return {"keys": manager.list_datasets()}


@router.post(
    "/data/from-json",
    response_model=KeyList,
    status_code=status.HTTP_201_CREATED,
    summary="Add a dataset from its JSON form",
    responses={
        400: {"description": "Empty body, malformed JSON or not a dataset payload."},
        409: {"description": "A dataset with the payload's name exists."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The raw output of `DataSource.to_json()` (object- or "
            "array-rooted), not wrapped in an envelope.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
    dependencies=[audited("dataset.add")],
)
async def add_from_json(
    request: Request, manager: ManagerDep, caller: CallerDep, new_version: NewVersion = False
) -> dict[str, Any]:
    """Store the dataset serialised by `DataSource.to_json()` under its name. A name
    that exists is 409, as in the reference, unless `new_version=true`: then the
    payload becomes that dataset's new version."""
    payload = await request.body()
    await run_in_threadpool(
        lambda: manager.add_dataset_from_json(payload, new_version=new_version, creator=caller.user)
    )
    return {"keys": manager.list_datasets()}


@router.get(
    "/data/{data_key}/versions",
    response_model=DatasetVersionList,
    summary="List a dataset's versions",
    responses=NOT_FOUND,
)
def dataset_versions(data_key: str, manager: ManagerDep) -> dict[str, Any]:
    """Every version kept, newest first: id, digest, creation time, creator, how many
    ETL messages produced it, and the scenarios pinned to it."""
    versions = manager.dataset_versions(data_key)
    latest = versions[0].version
    return {"key": data_key, "versions": [version_view(v, latest) for v in versions]}


@router.get(
    "/data/{data_key}",
    summary="Get a dataset",
    responses=NOT_FOUND | {200: {"content": {JSON: {}}, "description": "`DataSource.to_json()`."}},
)
def get_dataset(data_key: str, manager: ManagerDep, version: VersionQuery = None) -> Response:
    """The dataset in its versioned columnar JSON form (see docs/data-json-format.md):
    its latest version, or the one `version` names (404 if it has no such version)."""
    return Response(manager.get_dataset(data_key, version).to_json_bytes(), media_type=JSON)


@router.get(
    "/data/{data_key}/parameters",
    response_model=AlgorithmParameters,
    summary="Describe a dataset's data parameters",
    responses=NOT_FOUND,
)
def data_parameters(data_key: str, manager: ManagerDep) -> dict[str, Any]:
    """The dataset's declared parameters in the algorithm descriptor shape:
    `{"name", "parameters": [descriptor]}` (an empty list when it declares none).
    Scenario creation takes their values as `data_params`."""
    declared = manager.data_parameter_set(data_key)
    return {
        "name": data_key,
        "parameters": declared.describe() if declared is not None else [],
    }


@router.delete(
    "/data/{data_key}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a dataset",
    responses=NOT_FOUND
    | {
        200: {
            "model": DatasetDeletionOut,
            "description": "Some versions were deleted; the ones scenarios use remain "
            "(`remaining`), and the key with them.",
        },
        204: {"description": "Every version was deleted: the dataset is gone."},
        409: {"description": "Scenarios use every version: nothing was deleted."},
    },
    dependencies=[audited("dataset.delete")],
)
def delete_dataset(data_key: str, manager: ManagerDep) -> Response:
    """Delete the versions no scenario uses. 204 when that was all of them (the
    dataset is gone); 200 naming the versions deleted and those that remain when
    scenarios use some; 409 when scenarios use every version."""
    deletion = manager.delete_dataset(data_key)
    if not deletion.remaining:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return json_response(
        {"key": deletion.key, "deleted": deletion.deleted, "remaining": deletion.remaining}
    )


@router.post(
    "/data/{data_key}/derive",
    response_model=KeyList,
    status_code=status.HTTP_201_CREATED,
    summary="Derive a dataset",
    responses=NOT_FOUND
    | {409: {"description": "The new key exists (and `new_version` is not true)."}},
    dependencies=[audited("dataset.derive")],
)
def derive_dataset(
    data_key: str,
    body: DeriveDataset,
    manager: ManagerDep,
    caller: CallerDep,
    version: VersionQuery = None,
    new_version: NewVersion = False,
) -> dict[str, Any]:
    """An independent copy of `data_key` (its latest version, or `version`) stored as
    `new_key`, classified as derived data. An existing `new_key` is 409, as in the
    reference, unless `new_version=true` adds the copy as its new version."""
    manager.derive_dataset(
        data_key, body.new_key, version=version, new_version=new_version, creator=caller.user
    )
    return {"keys": manager.list_datasets()}


@router.post(
    "/data/{data_key}/save-as-master",
    response_model=KeyList,
    status_code=status.HTTP_201_CREATED,
    summary="Save a dataset as master data",
    responses=NOT_FOUND | {409: {"description": "The new key exists."}},
    dependencies=[audited("dataset.save_as_master")],
)
def save_as_master(data_key: str, body: DeriveDataset, manager: ManagerDep) -> dict[str, Any]:
    """An independent copy of `data_key` (a derived dataset, typically) stored as
    `new_key`, classified as master data."""
    manager.save_as_master(data_key, body.new_key)
    return {"keys": manager.list_datasets()}


@router.get(
    "/data/{data_key}/tables",
    response_model=TableList,
    summary="List a dataset's tables",
    responses=NOT_FOUND,
)
def list_tables(data_key: str, manager: ManagerDep) -> dict[str, Any]:
    """Name, row count and columns of each table."""
    return table_list(manager.get_dataset(data_key))


@router.get(
    "/data/{data_key}/tables/{table}/frame",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="A dataset table as a tabular frame",
    responses=NOT_FOUND,
    openapi_extra=FRAME_OPENAPI_EXTRA,
)
def dataset_table_frame(
    data_key: str, table: str, manager: ManagerDep, offset: Offset = 0, limit: Limit = 1000
) -> Response:
    """Rows `offset` to `offset + limit` of a table, as `core.tabular_frame@v1`."""
    body = table_frame(
        manager.get_dataset(data_key),
        table,
        kind="dataset",
        source_id=f"{data_key}/{table}",
        label=f"{data_key} / {table}",
        offset=offset,
        limit=limit,
    )
    return Response(body, media_type=JSON)


@router.get(
    "/data/{data_key}/tables/{table}/download",
    summary="Download a dataset table as CSV or XLSX",
    response_class=Response,
    responses=NOT_FOUND | DOWNLOAD_ANSWERS,
)
def download_table(
    data_key: str,
    table: str,
    manager: ManagerDep,
    config: ConfigDep,
    format: Annotated[ExportFormat, Query(description="`csv` or `xlsx`.")] = ExportFormat.csv,
) -> Response:
    """The whole table as a UTF-8 CSV file or an XLSX workbook with one sheet. Text
    cells starting with `=`, `+`, `-`, `@`, a tab or a carriage return get a leading
    `'` so that a spreadsheet shows them instead of running them as formulas; so do
    column names. In XLSX, control characters other than tab, line feed and carriage
    return (which the format cannot hold) become U+FFFD."""
    data = manager.get_dataset(data_key)
    if table not in data.list_tables():
        raise NotFoundError(f"table {table!r} not found (tables: {', '.join(data) or 'none'})")
    frame = data.get_table(table)
    stem = f"{data_key}-{table}"
    return export_response(frame, table, format, stem, config.max_xlsx_export_cells)


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
