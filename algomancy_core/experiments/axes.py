"""Experiment axes: an axis spec of a design resolved against the algorithm's or
the dataset's parameter declarations (values, ranges, dates, log scales)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import InvalidInputError
from algomancy_core.experiments.designs import Axis
from algomancy_core.parameters import Parameter, ParameterError

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager

DATA_PREFIX = "data."
_RANGED = ("integer", "float")


def _axis(key: str, parameter: Parameter, spec: Mapping[str, Any], base: Any) -> Axis:
    """The axis of `parameter`: explicit values, else the spec's or the descriptor's
    bounds (numbers) or choices (enums, booleans)."""
    type_name = parameter.type_name
    values = spec.get("values")
    if values is not None:
        if not isinstance(values, list) or not values:
            raise InvalidInputError(f"axis {key!r}: values must be a non-empty list")
        for value in values:
            try:
                parameter.parse(value)
            except ParameterError as exc:
                raise InvalidInputError(f"axis {key!r}: {exc}") from None
        return Axis(key, type_name, values=tuple(values), base=base)
    if type_name in _RANGED:
        low = spec.get("min", parameter.min)
        high = spec.get("max", parameter.max)
        if low is None or high is None:
            raise InvalidInputError(
                f"axis {key!r}: give min and max (the parameter declares no bounds)"
            )
        if not all(isinstance(b, int | float) and not isinstance(b, bool) for b in (low, high)):
            raise InvalidInputError(f"axis {key!r}: min and max must be numbers")
        if low > high:
            raise InvalidInputError(f"axis {key!r}: min {low} is greater than max {high}")
        for bound in (low, high):
            try:
                parameter.parse(int(bound) if type_name == "integer" else float(bound))
            except ParameterError as exc:
                raise InvalidInputError(f"axis {key!r}: {exc}") from None
        scale = spec.get("scale") or "linear"
        if scale == "log" and (type_name != "float" or low <= 0):
            raise InvalidInputError(
                f"axis {key!r}: a log scale needs a float range above 0, got {low} to {high}"
            )
        return Axis(key, type_name, low=float(low), high=float(high), base=base, scale=scale)
    if type_name == "date":
        return _date_axis(key, parameter, spec, base)
    if type_name == "enum":
        return Axis(key, type_name, values=tuple(getattr(parameter, "choices", ())), base=base)
    if type_name == "boolean":
        return Axis(key, type_name, values=(False, True), base=base)
    raise InvalidInputError(f"axis {key!r}: a {type_name} parameter needs explicit values")


def _date_axis(key: str, parameter: Parameter, spec: Mapping[str, Any], base: Any) -> Axis:
    """A range of days between ISO dates (the spec's, else the descriptor's bounds)."""
    ends = []
    for label in ("min", "max"):
        bound = spec.get(label, getattr(parameter, label, None))
        if bound is None:
            raise InvalidInputError(
                f"axis {key!r}: give min and max dates (the parameter declares no bounds)"
            )
        try:
            ends.append(parameter.parse(bound if isinstance(bound, str) else bound.isoformat()))
        except (ParameterError, AttributeError) as exc:
            raise InvalidInputError(f"axis {key!r}: {label}: {exc}") from None
    low, high = (day.toordinal() for day in ends)
    if low > high:
        raise InvalidInputError(f"axis {key!r}: min {ends[0]} is after max {ends[1]}")
    return Axis(key, "date", low=float(low), high=float(high), base=base)


def resolve_axes(
    manager: ScenarioManager, base: Mapping[str, Any], axes: list[Mapping[str, Any]]
) -> list[Axis]:
    algorithm = manager.algorithm(base["algo_name"])
    declared = {p.name: p for p in algorithm.parameters.parameter_definitions()}
    data_set = manager.data_parameter_set(base["dataset_key"])
    data_declared = (
        {} if data_set is None else {p.name: p for p in data_set.parameter_definitions()}
    )
    algo_values = base.get("algo_params") or {}
    data_values = base.get("data_params") or {}
    out: list[Axis] = []
    for spec in axes:
        name, on = spec["name"], spec.get("on", "algorithm")
        if on == "data":
            parameter = data_declared.get(name)
            key, base_value = DATA_PREFIX + name, data_values.get(name)
        else:
            parameter = declared.get(name)
            key, base_value = name, algo_values.get(name)
        if parameter is None:
            owner = f"dataset {base['dataset_key']!r}" if on == "data" else base["algo_name"]
            raise InvalidInputError(f"axis {name!r}: not a parameter of {owner}")
        if base_value is None and parameter.has_default and parameter.default is not None:
            base_value = parameter.to_json(parameter.default)
        if any(axis.key == key for axis in out):
            raise InvalidInputError(f"axis {key!r} is given twice")
        out.append(_axis(key, parameter, spec, base_value))
    return out
