"""Domain records shaped for the wire (plain dicts, serialised once)."""

from __future__ import annotations

from datetime import datetime
from types import EllipsisType
from typing import Any

from algomancy_api.frames import TabularFrameSourceResponse, frame_json_bytes
from algomancy_core import NotFoundError, ScenarioManager, ScenarioRecord, ScenarioStatus
from algomancy_core.kpi import DETAILS_KEY
from algomancy_core.stores.base import DatasetVersion
from algomancy_data import DataSource


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def parameter_descriptors(manager: ScenarioManager, record: ScenarioRecord) -> list[dict[str, Any]]:
    """The algorithm's descriptors with this scenario's values as stored (never
    re-validated: a value that no longer fits is shown as it is). A parameter that
    was not stored shows its default; a stored value the algorithm no longer
    declares (or whose algorithm is gone) is shown as `{name, value}`."""
    stored = record.parameters
    try:
        algorithm = manager.algorithm(record.algorithm)
    except NotFoundError:
        return [{"name": name, "value": value} for name, value in stored.items()]
    described = algorithm.parameters().describe()
    for descriptor in described:
        if descriptor["name"] in stored:
            descriptor["value"] = stored[descriptor["name"]]
    declared = {descriptor["name"] for descriptor in described}
    described += [
        {"name": name, "value": value} for name, value in stored.items() if name not in declared
    ]
    return described


def scenario_view(
    manager: ScenarioManager, record: ScenarioRecord, pinned: str | EllipsisType | None = ...
) -> dict[str, Any]:
    """The seed's `Scenario.to_dict()` shape plus progress, error, timestamps,
    whether the scenario is stale (see `ScenarioManager.stale_reason`) and whether
    it is the session's pinned baseline (`pinned`: its id, read when not given)."""
    if pinned is ...:
        pinned = manager.baseline_id()
    stale = manager.stale_reason(record)
    kpis = kpi_values(manager, record)
    return {
        "id": record.id,
        "tag": record.tag,
        "input_data_id": record.dataset_key,
        "algorithm": {
            "name": record.algorithm,
            "parameters": parameter_descriptors(manager, record),
        },
        "kpis": kpis,
        "stale": stale is not None,
        "stale_reason": stale,
        "status": record.status.value,
        "result": record.result,
        "progress": record.progress,
        "error": record.error,
        "created_at": iso(record.created_at),
        "started_at": iso(record.started_at),
        "finished_at": iso(record.finished_at),
        # The reference's names for the same facts, so its clients read them.
        "input_data_key": record.dataset_key,
        "run_started_at": iso(record.started_at),
        "run_finished_at": iso(record.finished_at),
        "result_available": record.status is ScenarioStatus.COMPLETE,
        "data_parameters": record.data_parameters,
        "dataset_version": record.dataset_version,
        "dataset_digest": record.dataset_digest,
        "seed": record.seed,
        "lineage": record.lineage,
        "fingerprint": record.fingerprint,
        "baseline": record.id == pinned,
    }


def version_view(version: DatasetVersion, latest: int) -> dict[str, Any]:
    """A dataset version as `GET …/data/{data_key}/versions` lists it."""
    return {
        "version": version.version,
        "digest": version.digest,
        "created_at": iso(version.created_at),
        "creator": version.creator,
        "classification": version.classification,
        "tables": version.tables,
        "messages": len(version.messages),
        "scenario_ids": version.scenario_ids,
        "latest": version.version == latest,
    }


def kpi_values(manager: ScenarioManager, record: ScenarioRecord) -> dict[str, Any]:
    """Each KPI's value with its unit, direction and threshold (the reference's
    fields); a quantity's also its `display`, a binary KPI's `kind`, `passed` and
    `details`."""
    details: Any = record.kpis.get(DETAILS_KEY)
    details = details if isinstance(details, dict) else {}
    values = {}
    for name, kpi in manager.kpi_templates.items():
        value = record.kpis.get(name)
        entry: dict[str, Any] = {
            "name": name,
            "value": value,
            "unit": kpi.unit,
            "better_when": str(kpi.direction),
            "threshold": kpi.threshold,
        }
        if kpi.quantity is not None:
            entry["display"] = kpi.display(value)
        if kpi.kind == "binary":
            entry["kind"] = "binary"
            entry["passed"] = None if value is None else value >= 1.0
            entry["details"] = details.get(name)
        values[name] = entry
    return values


def summary_view(
    manager: ScenarioManager, record: ScenarioRecord, pinned: str | EllipsisType | None = ...
) -> dict[str, Any]:
    """The reference's light summary: no result, no parameter descriptors, and
    nothing that needs the dataset or the result to be read."""
    if pinned is ...:
        pinned = manager.baseline_id()
    return {
        "id": record.id,
        "tag": record.tag,
        "input_data_key": record.dataset_key,
        "algorithm": {"name": record.algorithm, "parameters": record.parameters},
        "data_parameters": record.data_parameters,
        "status": record.status.value,
        "progress": record.progress,
        "created_at": iso(record.created_at),
        "run_started_at": iso(record.started_at),
        "run_finished_at": iso(record.finished_at),
        # A complete scenario always has its result stored.
        "result_available": record.status is ScenarioStatus.COMPLETE,
        "kpis": kpi_values(manager, record),
        "baseline": record.id == pinned,
    }


def table_list(data: DataSource) -> dict[str, Any]:
    """`{"tables": [{name, rows, columns}]}` of a dataset or a result."""
    tables = []
    for name in data.list_tables():
        frame = data.get_table(name)
        tables.append({"name": name, "rows": len(frame), "columns": [str(c) for c in frame]})
    return {"tables": tables}


def table_frame(
    data: DataSource, table: str, *, kind: str, source_id: str, label: str, offset: int, limit: int
) -> bytes:
    """Rows `offset` to `offset + limit` of one table as a `core.tabular_frame@v1` body."""
    if table not in data.list_tables():
        raise NotFoundError(f"table {table!r} not found (tables: {', '.join(data) or 'none'})")
    frame = data.get_table(table)
    source = TabularFrameSourceResponse(
        kind=kind,
        id=source_id,
        label=label,
        context={"offset": offset, "limit": limit, "total_rows": len(frame)},
    )
    return frame_json_bytes(frame, source=source, offset=offset, limit=limit)
