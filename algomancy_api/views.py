"""Domain records shaped for the wire (plain dicts, serialised once)."""

from __future__ import annotations

from datetime import datetime
from types import EllipsisType
from typing import Any

import orjson

from algomancy_api.frames import TabularFrameSourceResponse, frame_json_bytes
from algomancy_api.models import Lineage
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
    return with_stored_values(described_parameters(manager, record.algorithm), record.parameters)


def described_parameters(manager: ScenarioManager, algorithm: str) -> list[dict[str, Any]] | None:
    """The descriptors of `algorithm`'s parameters at their defaults; None when the
    algorithm is gone."""
    try:
        found = manager.algorithm(algorithm)
    except NotFoundError:
        return None
    return found.parameters().describe()


def with_stored_values(
    described: list[dict[str, Any]] | None, stored: dict[str, Any]
) -> list[dict[str, Any]]:
    """`described` (left as it is) with the values `stored`: see `parameter_descriptors`."""
    if described is None:
        return [{"name": name, "value": value} for name, value in stored.items()]
    out = []
    for descriptor in described:
        entry = dict(descriptor)
        if entry["name"] in stored:
            entry["value"] = stored[entry["name"]]
        out.append(entry)
    declared = {descriptor["name"] for descriptor in described}
    out += [
        {"name": name, "value": value} for name, value in stored.items() if name not in declared
    ]
    return out


def scenario_view(
    manager: ScenarioManager, record: ScenarioRecord, pinned: str | EllipsisType | None = ...
) -> dict[str, Any]:
    """The seed's `Scenario.to_dict()` shape plus progress, error, timestamps,
    whether the scenario is stale (see `ScenarioManager.stale_reason`) and whether
    it is the session's pinned baseline (`pinned`: its id, read when not given)."""
    if pinned is ...:
        pinned = manager.baseline_id()
    return _scenario_dict(
        manager,
        record,
        pinned,
        parameter_descriptors(manager, record),
        manager.stale_reason(record),
    )


def scenario_views(
    manager: ScenarioManager, records: list[ScenarioRecord], pinned: str | None
) -> list[dict[str, Any]]:
    """`scenario_view` of each of `records` (a list of many scenarios of a few
    algorithms): each algorithm described once, and each distinct set of stored
    parameter values checked for staleness once."""
    described: dict[str, list[dict[str, Any]] | None] = {}
    stale: dict[tuple[str, bytes], str | None] = {}
    views = []
    for record in records:
        if record.algorithm not in described:
            described[record.algorithm] = described_parameters(manager, record.algorithm)
        key = (record.algorithm, orjson.dumps(record.parameters, option=orjson.OPT_SORT_KEYS))
        if key not in stale:
            stale[key] = manager.stale_reason(record)
        descriptors = with_stored_values(described[record.algorithm], record.parameters)
        views.append(_scenario_dict(manager, record, pinned, descriptors, stale[key]))
    return views


def _scenario_dict(
    manager: ScenarioManager,
    record: ScenarioRecord,
    pinned: str | None,
    descriptors: list[dict[str, Any]],
    stale: str | None,
) -> dict[str, Any]:
    started, finished = iso(record.started_at), iso(record.finished_at)
    return {
        "id": record.id,
        "tag": record.tag,
        "input_data_id": record.dataset_key,
        "algorithm": {"name": record.algorithm, "parameters": descriptors},
        "kpis": kpi_values(manager, record),
        "stale": stale is not None,
        "stale_reason": stale,
        "status": record.status.value,
        "result": record.result,
        "progress": record.progress,
        "error": record.error,
        "created_at": iso(record.created_at),
        "started_at": started,
        "finished_at": finished,
        # The reference's names for the same facts, so its clients read them.
        "input_data_key": record.dataset_key,
        "run_started_at": started,
        "run_finished_at": finished,
        "result_available": record.status is ScenarioStatus.COMPLETE,
        "data_parameters": record.data_parameters,
        "dataset_version": record.dataset_version,
        "dataset_digest": record.dataset_digest,
        "seed": record.seed,
        "lineage": lineage_view(record.lineage),
        "fingerprint": record.fingerprint,
        "pruned": record.pruned,
        # Last: a kept listing view ends just before it (`algomancy_api.listing`).
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


def _float(value: Any) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


#: Read once: `Lineage.model_fields` through pydantic's descriptor cost a first
#: listing of 1,000 scenarios ~15% of its time (`benchmarks.profile_lists`).
_LINEAGE_FIELDS = tuple(Lineage.model_fields)


def lineage_view(lineage: dict[str, Any] | None) -> dict[str, Any] | None:
    """`lineage` with every field of the response model (`Lineage`), null when absent
    (an unknown lineage stores only three), as the model writes it."""
    if lineage is None:
        return None
    return {name: lineage.get(name) for name in _LINEAGE_FIELDS} | lineage


def kpi_values(manager: ScenarioManager, record: ScenarioRecord) -> dict[str, Any]:
    """Each KPI's value with its unit, direction and threshold (the reference's
    fields); a quantity's also its `display`, a binary KPI's `kind`, `passed` and
    `details`."""
    details: Any = record.kpis.get(DETAILS_KEY)
    details = details if isinstance(details, dict) else {}
    values = {}
    for name, kpi in manager.kpi_templates.items():
        value = record.kpis.get(name)
        # Numbers as floats, as the response model (`KpiValue`) writes them.
        entry: dict[str, Any] = {
            "name": name,
            "value": _float(value),
            "unit": kpi.unit,
            "better_when": str(kpi.direction),
            "threshold": _float(kpi.threshold),
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
