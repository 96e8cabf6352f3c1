"""The KPI comparison: a selection of scenarios, optionally against a baseline, as a
DataFrame (for frames and reports). The verdict rules are `algomancy_core.decisions`'."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from algomancy_core import NotFoundError, ScenarioManager, ScenarioRecord, ScenarioStatus
from algomancy_core.decisions import DEFAULT_TOLERANCE, check_tolerance, deltas, verdicts
from algomancy_core.errors import ConflictError, InvalidInputError
from algomancy_core.kpi import DETAILS_KEY, BaseKPI
from algomancy_core.names import nfc
from algomancy_data.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = lazy_module("numpy")
    pd = lazy_module("pandas")

#: `baseline=pinned`: the session's pinned baseline (a scenario tagged "pinned" is
#: then named by its id).
PINNED = "pinned"
PARAMETER_PREFIX = "param."


def delta_column(kpi: str) -> str:
    return f"{kpi}.delta"


def relative_column(kpi: str) -> str:
    return f"{kpi}.delta_rel"


def verdict_column(kpi: str) -> str:
    return f"{kpi}.verdict"


def split_refs(refs: Sequence[str] | None) -> list[str] | None:
    """`ids` as given: repeated and/or comma-separated, blanks dropped."""
    if refs is None:
        return None
    found = [part.strip() for ref in refs for part in ref.split(",") if part.strip()]
    if not found:
        raise InvalidInputError("ids: give at least one scenario id or tag")
    return found


class Resolver:
    """Finds the session's scenarios by id or tag, reading the session once."""

    def __init__(self, manager: ScenarioManager) -> None:
        self.manager = manager
        self.records = manager.list_scenario_summaries()
        self._by_id = {record.id: record for record in self.records}
        self._by_tag = {nfc(record.tag): record for record in self.records}

    def find(self, ref: str) -> ScenarioRecord:
        found = self._by_id.get(ref) or self._by_tag.get(nfc(ref))
        if found is None:
            raise NotFoundError(f"scenario {ref!r} not found (give a scenario id or tag)")
        return found

    def select(self, refs: Sequence[str] | None) -> list[ScenarioRecord]:
        if refs is None:
            return list(self.records)
        chosen: dict[str, ScenarioRecord] = {}
        for ref in refs:
            record = self.find(ref)
            chosen.setdefault(record.id, record)
        return list(chosen.values())

    def baseline(self, ref: str | None) -> ScenarioRecord | None:
        if ref is None:
            return None
        if ref == PINNED:
            pinned = self.manager.baseline_id()
            if pinned is None or pinned not in self._by_id:
                raise ConflictError(
                    "baseline=pinned: this session has no pinned baseline (PUT …/baseline pins one)"
                )
            return self._by_id[pinned]
        return self.find(ref)


@dataclasses.dataclass
class Comparison:
    """The compared scenarios (baseline first when given) as a DataFrame."""

    frame: pd.DataFrame
    records: list[ScenarioRecord]
    baseline: ScenarioRecord | None
    kpis: dict[str, type[BaseKPI]]
    parameters: list[str]
    tolerance: float
    pinned: str | None

    def context(self) -> dict[str, Any]:
        kpis = self.kpis
        context: dict[str, Any] = {
            "units": {name: kpi.unit for name, kpi in kpis.items()},
            "better_when": {name: str(kpi.direction) for name, kpi in kpis.items()},
            "thresholds": {name: kpi.threshold for name, kpi in kpis.items()},
            "quantities": {n: kpi.quantity for n, kpi in kpis.items() if kpi.quantity},
            "binary": binary_kpis(kpis),
            "ids": [record.id for record in self.records],
            # Which dataset version each row ran on: the app warns when they differ.
            "datasets": [record.dataset_key for record in self.records],
            "dataset_versions": [record.dataset_version for record in self.records],
            "pinned_baseline": self.pinned,
        }
        # A quantity's value in the unit that reads best, per row (as the API's
        # scenario views give it), so that a table need not convert units itself.
        context["displays"] = {
            name: [_display_text(kpi, value) for value in self.frame[name].tolist()]
            for name, kpi in kpis.items()
            if kpi.quantity
        }
        if self.baseline is not None:
            context["baseline"] = {"id": self.baseline.id, "tag": self.baseline.tag}
            context["tolerance"] = self.tolerance
        if self.parameters:
            context["parameters"] = self.parameters
        return context


def binary_kpis(kpis: dict[str, type[BaseKPI]]) -> list[str]:
    return [name for name, kpi in kpis.items() if kpi.kind == "binary"]


def details_column(kpi: str) -> str:
    """A binary KPI's details (why it passed or failed)."""
    return f"{kpi} details"


def _display_text(kpi: type[BaseKPI], value: float) -> str | None:
    shown = kpi.display(None if value != value else value)  # NaN: no value
    return None if shown is None else str(shown.get("text"))


def _details(record: ScenarioRecord, name: str) -> Any:
    details: Any = record.kpis.get(DETAILS_KEY)
    return details.get(name) if isinstance(details, dict) else None


def kpi_value(record: ScenarioRecord, name: str) -> float:
    value = record.kpis.get(name) if record.status is ScenarioStatus.COMPLETE else None
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return np.nan
    return float(value)


def _parameter_columns(
    records: list[ScenarioRecord], diff_only: bool
) -> tuple[list[str], dict[str, list[Any]]]:
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record.parameters))
    columns: dict[str, list[Any]] = {}
    kept: list[str] = []
    for name in names:
        values = [record.parameters.get(name) for record in records]
        if diff_only and len({repr(value) for value in values}) <= 1:
            continue
        kept.append(name)
        columns[PARAMETER_PREFIX + name] = values
    return kept, columns


def compare(
    manager: ScenarioManager,
    ids: Sequence[str] | None = None,
    baseline: str | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    parameters: bool = False,
    diff_only: bool = False,
) -> Comparison:
    """The comparison of the scenarios `ids` (ids or tags; all by default, oldest
    first) against `baseline` (an id, a tag, `pinned`, or None for none). The
    baseline's row comes first, added when not among `ids`. A binary KPI's value is
    1 (pass) or 0 (fail), with a `{name} details` column after the KPIs."""
    check_tolerance(tolerance)
    resolver = Resolver(manager)
    base = resolver.baseline(baseline)
    records = resolver.select(split_refs(ids))
    if base is not None:
        records = [base, *(record for record in records if record.id != base.id)]
    kpis = manager.kpi_templates
    data: dict[str, Any] = {
        "scenario": [record.tag for record in records],
        "algorithm": [record.algorithm for record in records],
        "dataset": [record.dataset_key for record in records],
        "status": [record.status.value for record in records],
    }
    if base is not None:
        data["baseline"] = [record.id == base.id for record in records]
    for name, kpi in kpis.items():
        values = np.array([kpi_value(record, name) for record in records], dtype=np.float64)
        data[name] = values
        if base is None:
            continue
        base_value = kpi_value(base, name)
        base_number = None if np.isnan(base_value) else base_value
        absolute, relative = deltas(values, base_number)
        data[delta_column(name)] = absolute
        data[relative_column(name)] = relative
        data[verdict_column(name)] = verdicts(
            kpi.direction, kpi.threshold, values, base_number, tolerance
        )
    for name in binary_kpis(kpis):
        data[details_column(name)] = [_details(record, name) for record in records]
    kept: list[str] = []
    if parameters or diff_only:
        kept, columns = _parameter_columns(records, diff_only)
        data |= columns
    frame = pd.DataFrame(data, columns=list(data))
    return Comparison(frame, records, base, kpis, kept, tolerance, manager.baseline_id())
