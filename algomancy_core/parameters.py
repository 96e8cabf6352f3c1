"""Typed algorithm parameters, declared as class attributes of a `BaseParameterSet`.

Values arrive as JSON: ISO strings for dates, real booleans only, integers that are
not booleans. A bad value raises `ParameterError` naming the parameter, the rule and
the offending value. Declarations are checked when the parameter set class is defined.
"""

from __future__ import annotations

import copy
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal, NamedTuple, Self, overload

__all__ = [
    "BaseParameterSet",
    "BooleanParameter",
    "DateParameter",
    "DateTimeParameter",
    "EnumParameter",
    "FloatParameter",
    "IntegerParameter",
    "Interval",
    "IntervalParameter",
    "MultiEnumParameter",
    "Parameter",
    "ParameterError",
    "StringParameter",
]


class _Missing:
    """Marks "no default declared"; distinct from an explicit default of None."""

    _instance: ClassVar[_Missing | None] = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class ParameterError(ValueError):
    """Bad parameter value or name; the message names the parameter and the rule."""

    def __init__(self, parameter: str | None, message: str) -> None:
        self.parameter = parameter
        self.message = message
        super().__init__(f"{parameter}: {message}" if parameter else message)


class Interval(NamedTuple):
    """A closed range of dates or datetimes; `end` is never before `start`."""

    start: date
    end: date


def _shown(raw: Any) -> str:
    """How an offending input value reads in an error message."""
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return f"the boolean {'true' if raw else 'false'}"
    if isinstance(raw, str):
        text = raw if len(raw) <= 60 else raw[:57] + "..."
        return f"the string {json.dumps(text)}"
    if isinstance(raw, int | float):
        return repr(raw)
    if isinstance(raw, datetime):
        return f"the datetime {raw.isoformat()}"
    if isinstance(raw, date):
        return f"the date {raw.isoformat()}"
    if isinstance(raw, list | tuple):
        return f"the list {_short_json(raw)}"
    if isinstance(raw, Mapping):
        return f"the object {_short_json(raw)}"
    return f"a {type(raw).__name__} {raw!r}"


def _short_json(raw: Any) -> str:
    try:
        text = json.dumps(raw, default=str)
    except (TypeError, ValueError):
        text = repr(raw)
    return text if len(text) <= 80 else text[:77] + "..."


def _choice_list(choices: Iterable[Any]) -> str:
    return ", ".join(json.dumps(choice) for choice in choices)


class Parameter(ABC):
    """One typed parameter; declare it as a class attribute of a `BaseParameterSet`.

    On the class the attribute is the `Parameter`; on an instance it is the current
    python value. `required` defaults to True, except for an explicit `default=None`;
    a required parameter with a default is satisfied by its default.
    """

    type_name: ClassVar[str] = ""
    # What a value is, for "must be <noun> between a and b".
    noun: ClassVar[str] = "a value"

    def __init__(
        self,
        *,
        default: Any = MISSING,
        required: bool | None = None,
        description: str = "",
    ) -> None:
        self.default: Any = default
        if required is None:
            required = default is not None
        self.required = required
        self.description = description
        self.name: str = ""
        self.min: Any = None
        self.max: Any = None

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> Any: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return instance._values[self.name]  # type: ignore[attr-defined]

    def __set__(self, instance: object, raw: Any) -> None:
        instance._values[self.name] = self.parse(raw)  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, default={self.default!r})"

    # -- declaration ------------------------------------------------------------------

    def check_declaration(self) -> None:
        """Raise ValueError naming the parameter if the declaration is inconsistent."""
        try:
            self._check_options()
        except ParameterError as exc:
            raise ValueError(f"{self.name}: invalid declaration: {exc.message}") from None
        if self.default is None and self.required:
            raise ValueError(f"{self.name}: default None requires required=False")
        if self.has_default and self.default is not None:
            try:
                self.default = self.parse(self.default)
            except ParameterError as exc:
                raise ValueError(f"{self.name}: invalid default: {exc.message}") from None

    def _check_options(self) -> None:
        """Check type-specific options; raise ParameterError(None, rule)."""
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ParameterError(
                None,
                f"min {self._bound_json(self.min)} is greater than max "
                f"{self._bound_json(self.max)}",
            )

    # -- values -----------------------------------------------------------------------

    def parse(self, raw: Any) -> Any:
        """Turn a JSON value into the python value; raise ParameterError if invalid."""
        if raw is None:
            if self.required:
                raise ParameterError(self.name, "is required and must not be null")
            return None
        return self._parse(raw)

    @abstractmethod
    def _parse(self, raw: Any) -> Any:
        """`raw` (not None) as this parameter's Python value, or `ParameterError`."""

    def to_json(self, value: Any) -> Any:
        """Turn a python value into a JSON-able value."""
        return value

    def initial_value(self) -> Any:
        """The value before any input: a copy of the default, or None."""
        return copy.deepcopy(self.default) if self.has_default else None

    def _bound_json(self, bound: Any) -> Any:
        return bound

    def _check_bounds(self, value: Any, raw: Any) -> None:
        low, high = self._comparable(self.min), self._comparable(self.max)
        point = self._comparable(value)
        too_low = low is not None and point < low
        too_high = high is not None and point > high
        if not (too_low or too_high):
            return
        if self.min is not None and self.max is not None:
            rule = (
                f"must be {self.noun} between {self._bound_json(self.min)} "
                f"and {self._bound_json(self.max)}"
            )
        elif too_low:
            rule = f"must be >= {self._bound_json(self.min)}"
        else:
            rule = f"must be <= {self._bound_json(self.max)}"
        raise ParameterError(self.name, f"{rule}, got {_shown(raw)}")

    def _comparable(self, value: Any) -> Any:
        return value

    # -- description ------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Name, type, required, default, min, max, choices, extras, description.

        Keys that do not apply are left out.
        """
        out: dict[str, Any] = {"name": self.name, "type": self.type_name}
        out["required"] = self.required
        if self.has_default:
            out["default"] = None if self.default is None else self.to_json(self.default)
        if self.min is not None:
            out["min"] = self._bound_json(self.min)
        if self.max is not None:
            out["max"] = self._bound_json(self.max)
        out.update(self._describe_extras())
        if self.description:
            out["description"] = self.description
        return out

    def _describe_extras(self) -> dict[str, Any]:
        return {}


class IntegerParameter(Parameter):
    """A whole number; booleans and floats (even 5.0) are rejected."""

    type_name = "integer"
    noun = "an integer"

    def __init__(
        self,
        *,
        default: Any = MISSING,
        min: int | None = None,
        max: int | None = None,
        required: bool | None = None,
        description: str = "",
    ) -> None:
        super().__init__(default=default, required=required, description=description)
        self.min, self.max = min, max

    def _check_options(self) -> None:
        for label, bound in (("min", self.min), ("max", self.max)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
                raise ParameterError(None, f"{label} must be an integer, got {_shown(bound)}")
        super()._check_options()

    def _parse(self, raw: Any) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ParameterError(self.name, f"must be an integer, got {_shown(raw)}")
        value = int(raw)
        self._check_bounds(value, raw)
        return value


class FloatParameter(Parameter):
    """A finite number; integers are accepted, booleans, NaN and infinities are not."""

    type_name = "float"
    noun = "a number"

    def __init__(
        self,
        *,
        default: Any = MISSING,
        min: float | None = None,
        max: float | None = None,
        required: bool | None = None,
        description: str = "",
    ) -> None:
        super().__init__(default=default, required=required, description=description)
        self.min, self.max = min, max

    def _check_options(self) -> None:
        for label, bound in (("min", self.min), ("max", self.max)):
            if bound is None:
                continue
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise ParameterError(None, f"{label} must be a number, got {_shown(bound)}")
            if not math.isfinite(bound):
                raise ParameterError(None, f"{label} must be finite, got {_shown(bound)}")
        super()._check_options()

    def _parse(self, raw: Any) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ParameterError(self.name, f"must be a number, got {_shown(raw)}")
        value = float(raw)
        if not math.isfinite(value):
            raise ParameterError(self.name, f"must be a finite number, got {_shown(raw)}")
        self._check_bounds(value, raw)
        return value


class StringParameter(Parameter):
    """A text value, optionally with a minimum and maximum length."""

    type_name = "string"

    def __init__(
        self,
        *,
        default: Any = MISSING,
        min_length: int | None = None,
        max_length: int | None = None,
        required: bool | None = None,
        description: str = "",
    ) -> None:
        super().__init__(default=default, required=required, description=description)
        self.min_length, self.max_length = min_length, max_length

    def _check_options(self) -> None:
        for label, bound in (("min_length", self.min_length), ("max_length", self.max_length)):
            if bound is None:
                continue
            if isinstance(bound, bool) or not isinstance(bound, int) or bound < 0:
                raise ParameterError(
                    None, f"{label} must be a non-negative integer, got {_shown(bound)}"
                )
        if (
            self.min_length is not None
            and self.max_length is not None
            and self.min_length > self.max_length
        ):
            raise ParameterError(
                None, f"min_length {self.min_length} is greater than max_length {self.max_length}"
            )

    def _parse(self, raw: Any) -> Any:
        if not isinstance(raw, str):
            raise ParameterError(self.name, f"must be a string, got {_shown(raw)}")
        if self.min_length is not None and len(raw) < self.min_length:
            raise ParameterError(
                self.name,
                f"must be at least {self.min_length} characters long, got {_shown(raw)}",
            )
        if self.max_length is not None and len(raw) > self.max_length:
            raise ParameterError(
                self.name,
                f"must be at most {self.max_length} characters long, got {_shown(raw)}",
            )
        return raw

    def _describe_extras(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.min_length is not None:
            out["min_length"] = self.min_length
        if self.max_length is not None:
            out["max_length"] = self.max_length
        return out


class BooleanParameter(Parameter):
    """A real JSON boolean; "false", 0 and 1 are errors, not booleans."""

    type_name = "boolean"

    def _parse(self, raw: Any) -> Any:
        if not isinstance(raw, bool):
            raise ParameterError(self.name, f"must be a boolean (true or false), got {_shown(raw)}")
        return raw


def _same_choice(a: Any, b: Any) -> bool:
    # Type-exact so that true does not match the choice 1, nor 1.0 the choice 1.
    return type(a) is type(b) and a == b


class _ChoiceParameter(Parameter):
    def __init__(
        self,
        *,
        choices: Sequence[Any],
        default: Any = MISSING,
        required: bool | None = None,
        description: str = "",
    ) -> None:
        super().__init__(default=default, required=required, description=description)
        self.choices: list[Any] = list(choices)

    def _check_options(self) -> None:
        if not self.choices:
            raise ParameterError(None, "choices must not be empty")
        for index, choice in enumerate(self.choices):
            if not isinstance(choice, str | int | float) or isinstance(choice, bool):
                raise ParameterError(
                    None, f"choices must be strings or numbers, got {_shown(choice)}"
                )
            if any(_same_choice(choice, other) for other in self.choices[:index]):
                raise ParameterError(None, f"choices contain {json.dumps(choice)} more than once")

    def _is_choice(self, raw: Any) -> bool:
        return any(_same_choice(raw, choice) for choice in self.choices)

    def _describe_extras(self) -> dict[str, Any]:
        return {"choices": list(self.choices)}


class EnumParameter(_ChoiceParameter):
    """One value out of a fixed list of choices."""

    type_name = "enum"

    def _parse(self, raw: Any) -> Any:
        if not self._is_choice(raw):
            raise ParameterError(
                self.name, f"must be one of {_choice_list(self.choices)}, got {_shown(raw)}"
            )
        return raw


class MultiEnumParameter(_ChoiceParameter):
    """A list of distinct values out of a fixed list of choices, in the given order."""

    type_name = "multi_enum"

    def _parse(self, raw: Any) -> Any:
        if not isinstance(raw, list | tuple):
            raise ParameterError(
                self.name,
                f"must be a list of values from {_choice_list(self.choices)}, got {_shown(raw)}",
            )
        for index, item in enumerate(raw):
            if not self._is_choice(item):
                raise ParameterError(
                    self.name,
                    f"items must be from {_choice_list(self.choices)}, got {_shown(item)}",
                )
            if any(_same_choice(item, other) for other in raw[:index]):
                raise ParameterError(
                    self.name, f"items must be distinct, got {_shown(item)} more than once"
                )
        return list(raw)

    def to_json(self, value: Any) -> Any:
        return None if value is None else list(value)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_date(raw: Any) -> date | str:
    """The date, or the rule it broke."""
    if isinstance(raw, datetime):
        return f'must be a date "YYYY-MM-DD", not a datetime, got {_shown(raw)}'
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and _ISO_DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return f"must be a valid calendar date, got {_shown(raw)}"
    return f'must be an ISO date "YYYY-MM-DD", got {_shown(raw)}'


def _parse_datetime(raw: Any) -> datetime | str:
    """The datetime, or the rule it broke."""
    if isinstance(raw, datetime):
        return raw
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            pass
    return f"must be an ISO 8601 date and time, got {_shown(raw)}"


def _utc_if_naive(value: Any) -> Any:
    # Naive and aware datetimes do not compare; a naive one is read as UTC for bounds.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class _TemporalParameter(Parameter):
    def __init__(
        self,
        *,
        default: Any = MISSING,
        min: Any = None,
        max: Any = None,
        required: bool | None = None,
        description: str = "",
    ) -> None:
        super().__init__(default=default, required=required, description=description)
        self.min, self.max = min, max

    @abstractmethod
    def _parse_point(self, raw: Any) -> date | str:
        """One date or datetime from `raw`, or a message saying what is wrong."""

    def _check_options(self) -> None:
        for label in ("min", "max"):
            bound = getattr(self, label)
            if bound is None:
                continue
            parsed = self._parse_point(bound)
            if isinstance(parsed, str):
                raise ParameterError(None, f"{label} {parsed}")
            setattr(self, label, parsed)
        super()._check_options()

    def _comparable(self, value: Any) -> Any:
        return _utc_if_naive(value)

    def _bound_json(self, bound: Any) -> Any:
        return bound.isoformat()


class _PointParameter(_TemporalParameter):
    """One date or datetime; `_parse_point` says which."""

    def _parse(self, raw: Any) -> Any:
        value = self._parse_point(raw)
        if isinstance(value, str):
            raise ParameterError(self.name, value)
        self._check_bounds(value, raw)
        return value

    def to_json(self, value: Any) -> Any:
        return None if value is None else value.isoformat()


class DateParameter(_PointParameter):
    """A calendar date, as an ISO "YYYY-MM-DD" string; datetime strings are rejected."""

    type_name = "date"
    noun = "a date"

    def _parse_point(self, raw: Any) -> date | str:
        return _parse_date(raw)


class DateTimeParameter(_PointParameter):
    """A date and time, as an ISO 8601 string with or without offset ("Z" accepted)."""

    type_name = "datetime"
    noun = "a date and time"

    def _parse_point(self, raw: Any) -> date | str:
        return _parse_datetime(raw)


class IntervalParameter(_TemporalParameter):
    """A `{"start": iso, "end": iso}` range of dates or datetimes (`kind`), end >= start.

    `kind` defaults to the kind of the declared default, else "date". `min` and `max`,
    when given, bound both ends.
    """

    type_name = "interval"

    def __init__(
        self,
        *,
        default: Any = MISSING,
        kind: Literal["date", "datetime"] | None = None,
        min: Any = None,
        max: Any = None,
        required: bool | None = None,
        description: str = "",
    ) -> None:
        if kind is None:
            kind = "date"
            start = default.start if isinstance(default, Interval) else None
            if isinstance(default, Mapping):
                start = default.get("start")
            if isinstance(start, datetime) or (
                isinstance(start, str) and isinstance(_parse_date(start), str)
            ):
                kind = "datetime"
        self.kind: str = kind
        super().__init__(
            default=default, min=min, max=max, required=required, description=description
        )

    def _check_options(self) -> None:
        if self.kind not in ("date", "datetime"):
            raise ParameterError(
                None, f'kind must be "date" or "datetime", got {_shown(self.kind)}'
            )
        super()._check_options()

    def _parse_point(self, raw: Any) -> date | str:
        return _parse_date(raw) if self.kind == "date" else _parse_datetime(raw)

    def _parse(self, raw: Any) -> Any:
        if isinstance(raw, Interval):
            raw = {"start": raw.start, "end": raw.end}
        if not isinstance(raw, Mapping) or set(raw) != {"start", "end"}:
            raise ParameterError(
                self.name, f'must be an object with "start" and "end", got {_shown(raw)}'
            )
        ends: dict[str, Any] = {}
        for key in ("start", "end"):
            value = self._parse_point(raw[key])
            if isinstance(value, str):
                raise ParameterError(self.name, f"{key} {value}")
            ends[key] = value
        start, end = ends["start"], ends["end"]
        if isinstance(start, datetime) and (start.tzinfo is None) != (end.tzinfo is None):
            raise ParameterError(
                self.name,
                "start and end must both have a time zone offset or both have none, "
                f"got {_shown(raw)}",
            )
        if end < start:
            raise ParameterError(
                self.name,
                f"end must not be before start, got start {start.isoformat()} "
                f"and end {end.isoformat()}",
            )
        for key, point in ends.items():
            low, high = _utc_if_naive(self.min), _utc_if_naive(self.max)
            if low is not None and _utc_if_naive(point) < low:
                raise ParameterError(
                    self.name,
                    f"{key} must be >= {self._bound_json(self.min)}, got {point.isoformat()}",
                )
            if high is not None and _utc_if_naive(point) > high:
                raise ParameterError(
                    self.name,
                    f"{key} must be <= {self._bound_json(self.max)}, got {point.isoformat()}",
                )
        return Interval(start, end)

    def to_json(self, value: Any) -> Any:
        if value is None:
            return None
        return {"start": value.start.isoformat(), "end": value.end.isoformat()}

    def _describe_extras(self) -> dict[str, Any]:
        return {"kind": self.kind}


class BaseParameterSet:
    """A set of typed parameters. Declare parameters as class attributes:

        class SlowParameters(BaseParameterSet):
            duration = IntegerParameter(default=1, min=1, max=60, description="Seconds to run")

    Declarations are inherited; a subclass may redeclare a name to replace it.
    """

    _parameters: ClassVar[dict[str, Parameter]] = {}
    _reserved: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        parameters = dict(cls._parameters)
        for name, attribute in cls.__dict__.items():
            if not isinstance(attribute, Parameter):
                continue
            if name.startswith("_") or name in BaseParameterSet._reserved:
                raise ValueError(f"{name}: this name is reserved and cannot be a parameter")
            attribute.name = name
            attribute.check_declaration()
            parameters[name] = attribute
        cls._parameters = parameters

    @classmethod
    def parameter_definitions(cls) -> list[Parameter]:
        """The declared parameters in declaration order, inherited ones first."""
        return list(cls._parameters.values())

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = {
            name: parameter.initial_value() for name, parameter in self._parameters.items()
        }
        if values is not None:
            self.set_values(values)

    def set_values(self, values: Mapping[str, Any] | None) -> None:
        """Replace all values: defaults overlaid with `values` (JSON-like).

        All or nothing: if any value is invalid, the set is left unchanged.
        """
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            raise ParameterError(None, "parameters must be a JSON object")
        unknown = [key for key in values if key not in self._parameters]
        if unknown:
            known = ", ".join(self._parameters) or "none"
            names = ", ".join(json.dumps(str(key)) for key in unknown)
            if len(unknown) == 1:
                raise ParameterError(
                    str(unknown[0]), f"unknown parameter (known parameters: {known})"
                )
            raise ParameterError(None, f"unknown parameters {names} (known parameters: {known})")
        new_values: dict[str, Any] = {}
        for name, parameter in self._parameters.items():
            if name in values:
                new_values[name] = parameter.parse(values[name])
            elif parameter.has_default:
                new_values[name] = parameter.initial_value()
            elif parameter.required:
                raise ParameterError(name, "is required and has no default, but no value was given")
            else:
                new_values[name] = None
        self._values = new_values

    def values(self) -> dict[str, Any]:
        """The current python values by name."""
        return copy.deepcopy(self._values)

    def to_json(self) -> dict[str, Any]:
        """The current values as JSON-able values (ISO strings, intervals as objects)."""
        return {
            name: None if self._values[name] is None else parameter.to_json(self._values[name])
            for name, parameter in self._parameters.items()
        }

    def describe(self) -> list[dict[str, Any]]:
        """Each parameter's description with its current JSON value after "required"."""
        current = self.to_json()
        described = []
        for name, parameter in self._parameters.items():
            entry: dict[str, Any] = {}
            for key, value in parameter.describe().items():
                entry[key] = value
                if key == "required":
                    entry["value"] = current[name]
            described.append(entry)
        return described

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseParameterSet) or type(self) is not type(other):
            return NotImplemented
        return self._values == other._values

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self._values.items())
        return f"{type(self).__name__}({shown})"


BaseParameterSet._reserved = frozenset(
    name for name in dir(BaseParameterSet) if not name.startswith("__")
)
