"""Experiment axes: an axis spec of a design resolved against the algorithm's or
the dataset's parameter declarations (values, ranges, dates, log scales), or the
datasets (and versions) a design runs on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import InvalidInputError, NotFoundError
from algomancy_core.experiments.designs import Axis
from algomancy_core.parameters import Parameter, ParameterError

if TYPE_CHECKING:
    from algomancy_core.scenario_manager import ScenarioManager
    from algomancy_core.stores.base import DatasetVersion

DATA_PREFIX = "data."
#: The point keys (frame columns) of a dataset axis: the dataset's key and the
#: version the point runs on (the latest at creation when the axis names none).
DATASET = "dataset"
DATASET_VERSION = "dataset_version"
_RANGED = ("integer", "float")


def checked_value(what: str, key: str, parameter: Parameter, value: Any) -> None:
    """`value` if valid for `parameter`, else InvalidInputError naming `what` `key`
    (an experiment's axis, a study's space dimension)."""
    try:
        parameter.parse(value)
    except ParameterError as exc:
        raise InvalidInputError(f"{what} {key!r}: {exc}") from None


def checked_list(what: str, key: str, parameter: Parameter, listed: Any, noun: str) -> None:
    """`InvalidInputError` unless `listed` (the spec's `noun`) is a non-empty list of
    values valid for `parameter`."""
    if not isinstance(listed, list) or not listed:
        raise InvalidInputError(f"{what} {key!r}: {noun} must be a non-empty list")
    for value in listed:
        checked_value(what, key, parameter, value)


def declared_range(
    what: str, key: str, parameter: Parameter, spec: Mapping[str, Any]
) -> tuple[Any, Any]:
    """The spec's `min` and `max`, each else the parameter's declared bound."""
    low, high = spec.get("min", parameter.min), spec.get("max", parameter.max)
    if low is None or high is None:
        raise InvalidInputError(
            f"{what} {key!r}: give min and max (the parameter declares no bounds)"
        )
    return low, high


def _axis(key: str, parameter: Parameter, spec: Mapping[str, Any], base: Any) -> Axis:
    """The axis of `parameter`: explicit values, else the spec's or the descriptor's
    bounds (numbers) or choices (enums, booleans)."""
    type_name = parameter.type_name
    values = spec.get("values")
    if values is not None:
        checked_list("axis", key, parameter, values, "values")
        return Axis(key, type_name, values=tuple(values), base=base)
    if type_name in _RANGED:
        low, high = declared_range("axis", key, parameter, spec)
        if not all(isinstance(b, int | float) and not isinstance(b, bool) for b in (low, high)):
            raise InvalidInputError(f"axis {key!r}: min and max must be numbers")
        if low > high:
            raise InvalidInputError(f"axis {key!r}: min {low} is greater than max {high}")
        for bound in (low, high):
            checked_value(
                "axis", key, parameter, int(bound) if type_name == "integer" else float(bound)
            )
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


def _dataset_axis(manager: ScenarioManager, spec: Mapping[str, Any]) -> Axis:
    """The datasets (keys, or `{"key", "version"}`) a design runs on, each resolved
    to a `(key, version)` pair: a key alone means its latest version now."""
    values = spec.get("values")
    if not isinstance(values, list) or not values:
        raise InvalidInputError(
            "axis dataset: values must be a non-empty list of dataset keys "
            '(or {"key": ..., "version": ...})'
        )
    pairs: list[tuple[str, int]] = []
    for value in values:
        if isinstance(value, str):
            key, version = value, None
        elif isinstance(value, Mapping) and set(value) <= {"key", "version"} and "key" in value:
            key, version = value["key"], value.get("version")
        else:
            raise InvalidInputError(
                f'axis dataset: {value!r} is neither a dataset key nor {{"key", "version"}}'
            )
        if not isinstance(key, str) or not (
            version is None or (isinstance(version, int) and not isinstance(version, bool))
        ):
            raise InvalidInputError(
                f"axis dataset: {value!r}: the key must be a string and the version an integer"
            )
        try:
            pinned = manager.dataset_version(key, version)
        except NotFoundError as exc:
            raise InvalidInputError(f"axis dataset: {exc}") from None
        pair = (pinned.key, pinned.version)
        if pair in pairs:
            raise InvalidInputError(f"axis dataset: {pair[0]!r} version {pair[1]} is given twice")
        pairs.append(pair)
    return Axis(DATASET, DATASET, values=tuple(pairs))


def expand_datasets(planned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points as stored: a dataset axis' `(key, version)` as two keys, `dataset`
    and `dataset_version`, in its place."""
    out = []
    for point in planned:
        if DATASET not in point:
            return planned
        expanded: dict[str, Any] = {}
        for key, value in point.items():
            if key == DATASET:
                expanded[DATASET], expanded[DATASET_VERSION] = value
            else:
                expanded[key] = value
        out.append(expanded)
    return out


def axis_keys(axes: list[Axis]) -> list[str]:
    """The point keys (frame columns) of `axes`, in order."""
    out: list[str] = []
    for axis in axes:
        out.extend((DATASET, DATASET_VERSION) if axis.type_name == DATASET else (axis.key,))
    return out


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
        on = spec.get("on", "algorithm")
        if on == DATASET:
            if any(axis.type_name == DATASET for axis in out):
                raise InvalidInputError("axis dataset is given twice")
            out.append(_dataset_axis(manager, spec))
            continue
        name = spec["name"]
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
    keys = axis_keys(out)
    if len(set(keys)) < len(keys):
        raise InvalidInputError(
            "an algorithm parameter named dataset or dataset_version cannot be varied "
            "with a dataset axis (their columns would clash)"
        )
    return out


DATASET_ANALYSED = (
    "a {kind!r} design cannot vary the dataset: its analysis needs axes with a numeric "
    "range (and a base value, one-at-a-time); use a grid, random or lhs design"
)


def with_dataset(base: Mapping[str, Any], design: Mapping[str, Any]) -> dict[str, Any]:
    """`base`, its `dataset_key` defaulting to the first dataset of a dataset axis."""
    out = dict(base)
    if out.get("dataset_key"):
        return out
    for spec in design.get("axes") or []:
        values = spec.get("values") if spec.get("on") == DATASET else None
        if isinstance(values, list) and values:
            first = values[0]
            out["dataset_key"] = first.get("key") if isinstance(first, Mapping) else first
            if isinstance(out["dataset_key"], str):
                return out
    raise InvalidInputError("base: give a dataset_key (or vary the dataset with a dataset axis)")


class DatasetPins:
    """The dataset version and declared data parameters of each point (read once
    per version): the point's own (a dataset axis), else the base's latest."""

    def __init__(self, manager: ScenarioManager, dataset_key: str) -> None:
        self._manager = manager
        self._default = dataset_key
        self._seen: dict[tuple[str, int | None], tuple[DatasetVersion, Any]] = {}

    def of(self, point: Mapping[str, Any]) -> tuple[DatasetVersion, Any]:
        wanted = (point.get(DATASET, self._default), point.get(DATASET_VERSION))
        found = self._seen.get(wanted)
        if found is None:
            pinned = self._manager.dataset_version(*wanted)
            data_set = self._manager.data_parameter_set(pinned.key, pinned.version)
            found = self._seen[wanted] = (pinned, data_set)
        return found
