"""A scenario archive: one complete scenario as a zip that another server takes in.

Members: `manifest.json` (format and version, what ran, its lineage, fingerprint,
KPIs and status), `dataset.json` (the pinned dataset version, `DataSource.to_json()`),
`result.json`, and `tables/{name}.json` per result table (a one-table
`DataSource.to_json()`, which keeps the column types). Only complete scenarios are
archived: what makes an archive worth sharing is its result.

Reading trusts nothing in the zip's directory: member names are checked against
the layout above, each member is inflated in chunks and counted as it is read, and
the reading stops at `max_file_bytes` for one member or `max_xlsx_decompressed_bytes`
for all of them (`ArchiveTooLarge`, HTTP 413)."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from typing import Any

import orjson

from algomancy_core import InvalidInputError, ScenarioManager, ScenarioRecord
from algomancy_core.lineage import algomancy_version, algorithm_version
from algomancy_data import DataSource

#: What `manifest.json`'s `format` says, and the version this server reads and writes.
FORMAT = "algomancy-scenario-archive"
FORMAT_VERSION = 1
#: Members of one archive at most (the manifest, dataset, result and tables).
MAX_MEMBERS = 1000
_TABLE = re.compile(r"^tables/([^/]+)\.json$")
_CHUNK = 64 * 1024


class ArchiveTooLarge(ValueError):
    """An archive member, or the whole archive inflated, is over a limit (HTTP 413)."""


class ArchiveUnusable(ValueError):
    """An archive that is a readable zip but not one this server can take (HTTP 400)."""


@dataclasses.dataclass(frozen=True)
class Archive:
    """An archive as read: its manifest, dataset, result and result tables."""

    manifest: dict[str, Any]
    dataset: DataSource
    result: dict[str, Any] | None
    tables: DataSource | None


def build_archive(manager: ScenarioManager, record: ScenarioRecord) -> bytes:
    """The zip of a complete scenario (the caller checks that it is complete)."""
    algorithm = manager.algorithm(record.algorithm)
    data = manager.get_dataset(record.dataset_key, record.dataset_version)
    tables = manager.result_tables(record.id)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "algomancy_version": algomancy_version(),
        "tag": record.tag,
        "algorithm": {"name": record.algorithm, "version": algorithm_version(algorithm)},
        "parameters": record.parameters,
        "data_parameters": record.data_parameters,
        "seed": record.seed,
        "dataset": {
            "key": record.dataset_key,
            "version": record.dataset_version,
            "digest": record.dataset_digest,
        },
        "lineage": record.lineage,
        "fingerprint": record.fingerprint,
        "kpis": record.kpis,
        "status": record.status.value,
        "tables": tables.list_tables(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        zf.writestr("dataset.json", data.to_json_bytes())
        zf.writestr("result.json", orjson.dumps(record.result))
        for name in tables.list_tables():
            one = DataSource(name)
            one.add_table(name, tables.get_table(name))
            zf.writestr(f"tables/{name}.json", one.to_json_bytes())
    return buffer.getvalue()


def read_archive(
    payload: bytes,
    *,
    max_member_bytes: int,
    max_total_bytes: int,
    data_type: type[DataSource] = DataSource,
) -> Archive:
    """The archive in `payload`; `InvalidInputError` (400) for what is not one,
    `ArchiveTooLarge` (413) beyond the limits, `ArchiveUnusable` (400) for a format
    version this server does not read."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(payload))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise InvalidInputError(f"the body is not a zip archive ({exc})") from None
    with zf:
        members = zf.infolist()
        if len(members) > MAX_MEMBERS:
            raise InvalidInputError(f"the archive has over {MAX_MEMBERS} members")
        budget = [max_total_bytes]
        found: dict[str, bytes] = {}
        for info in members:
            name = info.filename
            if info.is_dir():
                continue
            if name not in ("manifest.json", "dataset.json", "result.json") and not _TABLE.match(
                name
            ):
                raise InvalidInputError(f"the archive holds an unexpected member {name[:120]!r}")
            if name in found:
                raise InvalidInputError(f"the archive holds {name[:120]!r} twice")
            found[name] = _inflate(zf, info, max_member_bytes, budget)
    if "manifest.json" not in found:
        raise InvalidInputError("the archive has no manifest.json")
    manifest = _json_object(found["manifest.json"], "manifest.json")
    if manifest.get("format") != FORMAT:
        raise ArchiveUnusable(f"manifest.json's format is not {FORMAT!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArchiveUnusable(
            f"manifest.json's format_version is {manifest.get('format_version')!r}; "
            f"this server reads version {FORMAT_VERSION}"
        )
    _check_manifest(manifest)
    if "dataset.json" not in found:
        raise InvalidInputError("the archive has no dataset.json")
    dataset = _datasource(found["dataset.json"], "dataset.json", data_type)
    result = None
    if "result.json" in found:
        try:
            result = orjson.loads(found["result.json"])
        except orjson.JSONDecodeError as exc:
            raise InvalidInputError(f"result.json is not JSON ({exc})") from None
        if result is not None and not isinstance(result, dict):
            raise InvalidInputError("result.json must hold an object or null")
    tables: DataSource | None = None
    for name, content in found.items():
        match = _TABLE.match(name)
        if match is None:
            continue
        one = _datasource(content, name)
        tables = tables or DataSource(f"result of {manifest['tag']}")
        for table in one.list_tables():
            tables.add_table(table, one.get_table(table))
    return Archive(manifest, dataset, result, tables)


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, budget: list[int]) -> bytes:
    """A member's bytes, counted while inflating (the directory's sizes may lie)."""
    chunks: list[bytes] = []
    size = 0
    try:
        with zf.open(info) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                budget[0] -= len(chunk)
                if size > limit:
                    raise ArchiveTooLarge(
                        f"archive member {info.filename[:120]!r} inflates to over {limit} "
                        "bytes (max_file_bytes)"
                    )
                if budget[0] < 0:
                    raise ArchiveTooLarge(
                        "the archive inflates to over its limit (max_xlsx_decompressed_bytes)"
                    )
                chunks.append(chunk)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError) as exc:
        raise InvalidInputError(
            f"archive member {info.filename[:120]!r} is unreadable ({exc})"
        ) from None
    return b"".join(chunks)


def _json_object(content: bytes, name: str) -> dict[str, Any]:
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"{name} is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{name} must hold a JSON object")
    return value


def _datasource(content: bytes, name: str, data_type: type[DataSource] = DataSource) -> DataSource:
    try:
        return data_type.from_json(content)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInputError(f"{name} is not a DataSource.to_json() payload ({exc})") from None


def _check_manifest(manifest: dict[str, Any]) -> None:
    """The manifest's fields the import uses have the types it needs."""
    checks: list[tuple[str, Any, type | tuple[type, ...]]] = [
        ("tag", manifest.get("tag"), str),
        ("algorithm", manifest.get("algorithm"), dict),
        ("parameters", manifest.get("parameters"), dict),
        ("data_parameters", manifest.get("data_parameters"), dict),
        ("kpis", manifest.get("kpis"), dict),
    ]
    for field, value, kind in checks:
        if not isinstance(value, kind):
            raise InvalidInputError(f"manifest.json's {field!r} is missing or of the wrong type")
    if not isinstance(manifest["algorithm"].get("name"), str):
        raise InvalidInputError("manifest.json's algorithm has no name")
    seed = manifest.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidInputError("manifest.json's seed must be an integer or null")
    for key, value in manifest["kpis"].items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidInputError(f"manifest.json's KPI {str(key)[:80]!r} is not a number")
