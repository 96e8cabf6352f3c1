"""What a report holds: the comparison, its scenarios' lineage, and a title."""

from __future__ import annotations

import dataclasses
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from algomancy_api.compare import Comparison, compare, delta_column, relative_column, verdict_column
from algomancy_core import ScenarioManager, ScenarioRecord
from algomancy_core.decisions import DEFAULT_TOLERANCE

#: The lineage sheet's columns.
LINEAGE_COLUMNS = [
    "scenario",
    "id",
    "algorithm",
    "dataset",
    "dataset version",
    "dataset digest",
    "seed",
    "fingerprint",
    "code versions",
    "finished at",
]
#: Verdicts that read as good / bad (fills and colours).
GOOD = frozenset({"improved", "pass"})
BAD = frozenset({"worse", "fail"})


@dataclasses.dataclass
class KpiColumn:
    """One KPI of the report: its name, unit, direction, threshold and columns."""

    name: str
    unit: str
    direction: str
    threshold: float | None

    @property
    def heading(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name

    @property
    def delta(self) -> str:
        return delta_column(self.name)

    @property
    def relative(self) -> str:
        return relative_column(self.name)

    @property
    def verdict(self) -> str:
        return verdict_column(self.name)


@dataclasses.dataclass
class Report:
    title: str
    generated: datetime
    comparison: Comparison
    kpis: list[KpiColumn]
    lineage: list[dict[str, Any]]

    @property
    def has_baseline(self) -> bool:
        return self.comparison.baseline is not None

    def rows(self) -> list[dict[str, Any]]:
        """The comparison's rows as dicts (NaN as None)."""
        records: list[dict[Any, Any]] = self.comparison.frame.to_dict(orient="records")
        return [
            {
                key: (None if isinstance(value, float) and value != value else value)
                for key, value in row.items()
            }
            for row in records
        ]


def _code_versions() -> dict[str, str]:
    import numpy
    import pandas

    from algomancy_api.routers.platform import package_version

    return {
        "algomancy-api": package_version(),
        "python": platform.python_version(),
        "pandas": pandas.__version__,
        "numpy": numpy.__version__,
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _recorded_code(lineage: dict[str, Any]) -> dict[str, Any]:
    """The code versions a scenario's lineage recorded (Algomancy's, the domain
    package's, the algorithm's, the executor), those it has."""
    algorithm = lineage.get("algorithm")
    recorded = {
        "algomancy-api": lineage.get("algomancy_version"),
        "domain": lineage.get("domain_version"),
        "algorithm": algorithm.get("version") if isinstance(algorithm, dict) else None,
        "executor": lineage.get("executor"),
    }
    found = {name: value for name, value in recorded.items() if value is not None}
    extra = lineage.get("code_versions") or lineage.get("code")
    return found | extra if isinstance(extra, dict) else found


def lineage_row(record: ScenarioRecord, code: dict[str, str]) -> dict[str, Any]:
    """What is known of how a scenario's numbers came about: the scenario's own
    `lineage` (dataset key, version, digest, seed, code versions) where the store
    keeps one, else its dataset key, a `seed` parameter and this server's versions."""
    lineage: Any = getattr(record, "lineage", None) or {}
    if not isinstance(lineage, dict):
        lineage = {"value": lineage}
    dataset: Any = lineage.get("dataset") or {}
    if not isinstance(dataset, dict):
        dataset = {"key": dataset}
    seed = lineage.get("seed", record.parameters.get("seed"))
    finished = record.finished_at
    return {
        "scenario": record.tag,
        "id": record.id,
        "algorithm": record.algorithm,
        "dataset": dataset.get("key", record.dataset_key),
        "dataset version": _text(dataset.get("version", lineage.get("dataset_version"))),
        "dataset digest": _text(dataset.get("digest", lineage.get("dataset_digest"))),
        "seed": _text(seed),
        "fingerprint": _text(getattr(record, "fingerprint", None) or lineage.get("fingerprint")),
        "code versions": _text(_recorded_code(lineage) or code),
        "finished at": finished.astimezone(UTC).replace(tzinfo=None) if finished else None,
    }


def build_report(
    manager: ScenarioManager,
    ids: Sequence[str] | None,
    baseline: str | None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    diff_only: bool = False,
) -> Report:
    comparison = compare(
        manager, ids, baseline, tolerance=tolerance, parameters=True, diff_only=diff_only
    )
    kpis = [
        KpiColumn(name, kpi.unit, str(kpi.direction), kpi.threshold)
        for name, kpi in comparison.kpis.items()
    ]
    code = _code_versions()
    lineage = [lineage_row(record, code) for record in comparison.records]
    title = f"Scenario comparison — {manager.display_name}"
    return Report(title, datetime.now(UTC), comparison, kpis, lineage)
