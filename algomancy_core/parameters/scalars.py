"""Numbers, strings, booleans and choices: `integer`, `float`, `string`, `boolean`,
`enum` and `multi_enum` parameters."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from algomancy_core.parameters.base import (
    MISSING,
    BoundedParameter,
    Parameter,
    ParameterError,
    choice_list,
    shown,
)


class IntegerParameter(BoundedParameter[int]):
    """A whole number; booleans and floats (even 5.0) are rejected."""

    type_name = "integer"
    noun = "an integer"

    def _checked_bound(self, label: str, bound: Any) -> Any:
        if isinstance(bound, bool) or not isinstance(bound, int):
            raise ParameterError(None, f"{label} must be an integer, got {shown(bound)}")
        return bound

    def _parse(self, raw: Any) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ParameterError(self.name, f"must be an integer, got {shown(raw)}")
        value = int(raw)
        self._check_bounds(value, raw)
        return value


class FloatParameter(BoundedParameter[float]):
    """A finite number; integers are accepted, booleans, NaN and infinities are not."""

    type_name = "float"
    noun = "a number"

    def _checked_bound(self, label: str, bound: Any) -> Any:
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise ParameterError(None, f"{label} must be a number, got {shown(bound)}")
        if not math.isfinite(bound):
            raise ParameterError(None, f"{label} must be finite, got {shown(bound)}")
        return bound

    def _parse(self, raw: Any) -> Any:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ParameterError(self.name, f"must be a number, got {shown(raw)}")
        value = float(raw)
        if not math.isfinite(value):
            raise ParameterError(self.name, f"must be a finite number, got {shown(raw)}")
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
                    None, f"{label} must be a non-negative integer, got {shown(bound)}"
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
            raise ParameterError(self.name, f"must be a string, got {shown(raw)}")
        if self.min_length is not None and len(raw) < self.min_length:
            raise ParameterError(
                self.name,
                f"must be at least {self.min_length} characters long, got {shown(raw)}",
            )
        if self.max_length is not None and len(raw) > self.max_length:
            raise ParameterError(
                self.name,
                f"must be at most {self.max_length} characters long, got {shown(raw)}",
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
            raise ParameterError(self.name, f"must be a boolean (true or false), got {shown(raw)}")
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
                    None, f"choices must be strings or numbers, got {shown(choice)}"
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
                self.name, f"must be one of {choice_list(self.choices)}, got {shown(raw)}"
            )
        return raw


class MultiEnumParameter(_ChoiceParameter):
    """A list of distinct values out of a fixed list of choices, in the given order."""

    type_name = "multi_enum"

    def _parse(self, raw: Any) -> Any:
        if not isinstance(raw, list | tuple):
            raise ParameterError(
                self.name,
                f"must be a list of values from {choice_list(self.choices)}, got {shown(raw)}",
            )
        for index, item in enumerate(raw):
            if not self._is_choice(item):
                raise ParameterError(
                    self.name,
                    f"items must be from {choice_list(self.choices)}, got {shown(item)}",
                )
            if any(_same_choice(item, other) for other in raw[:index]):
                raise ParameterError(
                    self.name, f"items must be distinct, got {shown(item)} more than once"
                )
        return list(raw)

    def to_json(self, value: Any) -> Any:
        return None if value is None else list(value)
