"""`BaseParameterSet`: typed parameters declared as class attributes, checked when
the class is defined, set from JSON values."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from algomancy_core.parameters.base import Parameter, ParameterError


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
