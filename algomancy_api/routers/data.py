"""Datasets: list, get, delete, derive, from JSON, tables and frames (the ETL upload is
`routers.etl`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Query,
    Request,
    Response,
    status,
)
from fastapi.concurrency import run_in_threadpool

from algomancy_api.audit import audited
from algomancy_api.deps import CallerDep, ConfigDep, ManagerDep
from algomancy_api.exports import DOWNLOAD_ANSWERS, ExportFormat, export_response
from algomancy_api.frames import FRAME_OPENAPI_EXTRA, TabularFrameResponse
from algomancy_api.models import (
    AlgorithmParameters,
    DatasetDeletionOut,
    DatasetVersionList,
    DeriveDataset,
    KeyList,
    TableList,
)
from algomancy_api.routers import JSON, Limit, Offset, Responses, json_response
from algomancy_api.views import table_frame, table_list, version_view
from algomancy_core import NotFoundError

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
