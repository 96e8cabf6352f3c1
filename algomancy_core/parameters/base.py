"""The `Parameter` base class, `ParameterError`, and how offending values read in messages."""

from __future__ import annotations

import copy
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Generic, Self, TypeVar, overload


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


def shown(raw: Any) -> str:
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


def choice_list(choices: Iterable[Any]) -> str:
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
        raise ParameterError(self.name, f"{rule}, got {shown(raw)}")

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


B = TypeVar("B")


class BoundedParameter(Parameter, Generic[B]):
    """A parameter with an optional `min` and `max` of its own kind (numbers, dates)."""

    def __init__(
        self,
        *,
        default: Any = MISSING,
        min: B | None = None,
        max: B | None = None,
        required: bool | None = None,
        description: str = "",
    ) -> None:
        super().__init__(default=default, required=required, description=description)
        self.min, self.max = min, max

    def _check_options(self) -> None:
        for label in ("min", "max"):
            bound = getattr(self, label)
            if bound is not None:
                setattr(self, label, self._checked_bound(label, bound))
        super()._check_options()

    @abstractmethod
    def _checked_bound(self, label: str, bound: Any) -> Any:
        """`bound` (not None) as the `label` bound, or `ParameterError(None, rule)`."""
