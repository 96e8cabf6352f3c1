"""An experiment's results: one row per point for its tabular frame (`rows`), and
the sensitivity of a KPI to its axes (`sensitivity`: tornado rows, Morris' or
Sobol's indices)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.experiments import salib
from algomancy_core.experiments.book import ExperimentPage, ExperimentRecord
from algomancy_core.experiments.service import scenarios_of

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager


def rows(
    manager: ScenarioManager, experiment_id: str, offset: int = 0, limit: int | None = None
) -> tuple[ExperimentPage, list[str], list[dict[str, Any]]]:
    """One row per point, the points `offset` to `offset + limit` (default all):
    point, tag, status, scenario id, each axis, each KPI; with the page and the KPI
    names. Only those points and their scenarios are read, so a page of a large
    experiment costs what a small one does."""
    page = manager._store.experiments.page(manager.session_id, experiment_id, offset, limit)
    if page is None:
        raise NotFoundError(f"experiment {experiment_id!r} not found")
    outcomes = page.outcomes
    if outcomes is None:
        wanted = [p.scenario_id for p in page.points]
        outcomes = {
            s.id: (s.status.value, s.kpis)
            for s in manager._store.get_scenarios(manager.session_id, wanted, summaries=True)
        }
    kpi_names = list(manager.available_kpis)
    axes = page.axes
    gone: tuple[str, dict[str, Any]] = ("missing", {})
    out = []
    for point in page.points:
        status, kpis = outcomes.get(point.scenario_id, gone)
        values = point.values
        row: dict[str, Any] = {
            "point": point.number,
            "scenario_id": point.scenario_id,
            "status": status,
        }
        for axis in axes:
            row[axis] = values.get(axis)
        for kpi in kpi_names:
            row[kpi] = kpis.get(kpi)
        out.append(row)
    return page, kpi_names, out


def sensitivity(
    manager: ScenarioManager, record: ExperimentRecord, kpi: str
) -> list[dict[str, Any]]:
    """Sensitivity of `kpi` to the axes: tornado rows of a one-at-a-time design,
    Morris' mu*/sigma or Sobol's S1/ST of a Morris or Sobol design."""
    kind = record.design.get("kind")
    if kind not in ("oat", *salib.SALIB_KINDS):
        raise ConflictError(
            "sensitivity needs a one-at-a-time, morris or sobol design; experiment "
            f"{record.name!r} is {kind!r}"
        )
    if kpi not in manager.available_kpis:
        raise NotFoundError(f"KPI {kpi!r} not found")
    values = [None if run is None else run.kpis.get(kpi) for run in scenarios_of(manager, record)]
    if kind != "oat":
        return _indices(record, kpi, values)
    return _tornado(record, values)


def _indices(record: ExperimentRecord, kpi: str, values: list[Any]) -> list[dict[str, Any]]:
    """Morris or Sobol indices: every point must have its KPI."""
    missing = sum(1 for v in values if v is None)
    if missing:
        raise ConflictError(
            f"{missing} of the experiment's {len(values)} points have no {kpi!r} yet "
            "(not complete); Morris and Sobol indices need every point"
        )
    design = record.design
    kind, n, levels = design["kind"], int(design["n"]), design.get("levels")
    seed = int(design.get("seed") or 0)
    unit = salib.unit_sample(kind, len(record.axes), n, seed, levels)
    return salib.analyse(kind, record.axes, unit, values, seed=seed, levels=levels)


def _tornado(record: ExperimentRecord, values: list[Any]) -> list[dict[str, Any]]:
    """Per axis, the KPI at its low and high ends relative to the base point,
    largest swing first (incomplete last)."""
    base_value = values[0]
    out = []
    for i, axis in enumerate(record.axes):
        low, high = values[1 + 2 * i], values[2 + 2 * i]
        known = base_value is not None and low is not None and high is not None
        low_delta = low - base_value if known else None
        high_delta = high - base_value if known else None
        out.append(
            {
                "parameter": axis,
                "base_value": record.points[0][axis],
                "low_value": record.points[1 + 2 * i][axis],
                "high_value": record.points[2 + 2 * i][axis],
                "base_kpi": base_value,
                "low_kpi": low,
                "high_kpi": high,
                "low_delta": low_delta,
                "high_delta": high_delta,
                "swing": abs(high - low) if known else None,
            }
        )
    out.sort(key=lambda r: (r["swing"] is None, -(r["swing"] or 0.0)))
    return out
