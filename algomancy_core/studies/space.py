"""A study's search space, objectives and constraints resolved against the
algorithm's parameter descriptors and the KPIs, checked before anything is stored.

A resolved dimension is a plain dict (it is stored in the study's spec):
`{"key", "type": "float"|"int"|"categorical", "low", "high", "log", "step", "choices"}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import InvalidInputError
from algomancy_core.experiments.axes import (
    DATA_PREFIX,
    checked_list,
    checked_value,
    declared_range,
)
from algomancy_core.kpi import KpiDirection
from algomancy_core.parameters import Parameter

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager

_MAXIMISED = (KpiDirection.HIGHER, KpiDirection.AT_LEAST)


def _number(key: str, label: str, value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidInputError(f"space {key!r}: {label} must be a number, got {value!r}")
    return float(value)


def dimension(key: str, parameter: Parameter, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The dimension of `parameter`: explicit `choices`, else the spec's or the
    descriptor's bounds (integers, floats) or choices (enums, booleans)."""
    type_name = parameter.type_name
    choices = spec.get("choices")
    if choices is not None:
        checked_list("space", key, parameter, choices, "choices")
        return {"key": key, "type": "categorical", "choices": choices}
    if type_name in ("integer", "float"):
        low, high = declared_range("space", key, parameter, spec)
        low, high = _number(key, "min", low), _number(key, "max", high)
        if low > high:
            raise InvalidInputError(f"space {key!r}: min {low:g} is greater than max {high:g}")
        log = bool(spec.get("log", False))
        if log and low <= 0:
            raise InvalidInputError(f"space {key!r}: a log scale needs min above 0, got {low:g}")
        step = spec.get("step")
        if step is not None and (_number(key, "step", step) <= 0 or log):
            raise InvalidInputError(f"space {key!r}: step must be above 0 and not with log")
        kind = "int" if type_name == "integer" else "float"
        if kind == "int":
            low, high = float(int(low)), float(int(high))
            step = int(step or 1)
        for bound in (low, high):
            checked_value("space", key, parameter, int(bound) if kind == "int" else bound)
        return {"key": key, "type": kind, "low": low, "high": high, "log": log, "step": step}
    if type_name == "enum":
        listed = list(getattr(parameter, "choices", ()))
        return {"key": key, "type": "categorical", "choices": listed}
    if type_name == "boolean":
        return {"key": key, "type": "categorical", "choices": [False, True]}
    raise InvalidInputError(f"space {key!r}: a {type_name} parameter needs explicit choices")


def resolve_space(
    manager: ScenarioManager, base: Mapping[str, Any], space: list[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """The given dimensions, or by default every algorithm parameter with bounds
    (integers, floats) or choices (enums, booleans)."""
    algorithm = manager.algorithm(base["algo_name"])
    declared = {p.name: p for p in algorithm.parameters.parameter_definitions()}
    if space is None:
        out = []
        for name, parameter in declared.items():
            ranged = parameter.min is not None and parameter.max is not None
            if (parameter.type_name in ("integer", "float") and ranged) or (
                parameter.type_name in ("enum", "boolean")
            ):
                out.append(dimension(name, parameter, {}))
        if not out:
            raise InvalidInputError(
                f"space: {base['algo_name']} declares no parameter with bounds or choices; "
                "give the space"
            )
        return out
    if not space:
        raise InvalidInputError("space: give at least one parameter (or leave it out)")
    data_set = manager.data_parameter_set(base["dataset_key"])
    data_declared = (
        {} if data_set is None else {p.name: p for p in data_set.parameter_definitions()}
    )
    out = []
    for spec in space:
        name, on = spec["name"], spec.get("on", "algorithm")
        found = (data_declared if on == "data" else declared).get(name)
        if found is None:
            owner = f"dataset {base['dataset_key']!r}" if on == "data" else base["algo_name"]
            raise InvalidInputError(f"space {name!r}: not a parameter of {owner}")
        key = DATA_PREFIX + name if on == "data" else name
        if any(d["key"] == key for d in out):
            raise InvalidInputError(f"space {key!r} is given twice")
        out.append(dimension(key, found, spec))
    return out


def resolve_objectives(manager: ScenarioManager, objectives: list[Any]) -> list[dict[str, Any]]:
    """`[{"kpi", "direction"}]`: the direction from the KPI's `better_when` unless
    given (`minimize`/`maximize`)."""
    if not objectives:
        raise InvalidInputError("objectives: give at least one KPI")
    templates = manager.kpi_templates
    out: list[dict[str, Any]] = []
    for item in objectives:
        kpi = item if isinstance(item, str) else item.get("kpi")
        template = templates.get(kpi) if isinstance(kpi, str) else None
        if template is None:
            known = ", ".join(templates) or "none"
            raise InvalidInputError(f"objectives: KPI {kpi!r} not found (available: {known})")
        given = None if isinstance(item, str) else item.get("direction")
        if given not in (None, "minimize", "maximize"):
            raise InvalidInputError(
                f"objectives {kpi!r}: direction must be minimize or maximize, got {given!r}"
            )
        direction = given or ("maximize" if template.direction in _MAXIMISED else "minimize")
        if any(o["kpi"] == kpi for o in out):
            raise InvalidInputError(f"objectives: KPI {kpi!r} is given twice")
        out.append({"kpi": kpi, "direction": direction})
    return out


def resolve_constraints(
    manager: ScenarioManager, constraints: list[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """`[{"kpi", "max"?, "min"?}]`; a KPI given alone takes its threshold (at most or
    at least, from `better_when`)."""
    templates = manager.kpi_templates
    out = []
    for item in constraints:
        kpi = item.get("kpi")
        template = templates.get(kpi) if isinstance(kpi, str) else None
        if template is None:
            known = ", ".join(templates) or "none"
            raise InvalidInputError(f"constraints: KPI {kpi!r} not found (available: {known})")
        bounds = {k: item[k] for k in ("max", "min") if item.get(k) is not None}
        if not bounds:
            threshold = template.threshold
            if threshold is None:
                raise InvalidInputError(
                    f"constraints {kpi!r}: give max or min (the KPI declares no threshold)"
                )
            side = "min" if template.direction in _MAXIMISED else "max"
            bounds = {side: threshold}
        for label, value in bounds.items():
            _number(f"constraints {kpi}", label, value)
        out.append({"kpi": kpi, **{k: float(v) for k, v in bounds.items()}})
    return out


def evaluate(
    spec: Mapping[str, Any], kpis: Mapping[str, Any]
) -> tuple[list[float], list[float]] | None:
    """A run's objective values and constraint values (<= 0 feasible) from its KPI
    values; None when one is missing or not a number."""
    values: list[float] = []
    for objective in spec["objectives"]:
        value = kpis.get(objective["kpi"])
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        values.append(float(value))
    violations: list[float] = []
    for constraint in spec["constraints"]:
        value = kpis.get(constraint["kpi"])
        if not isinstance(value, int | float) or isinstance(value, bool):
            return None
        over = [float(value) - constraint["max"]] if "max" in constraint else []
        under = [constraint["min"] - float(value)] if "min" in constraint else []
        violations.append(max(over + under))
    return values, violations
