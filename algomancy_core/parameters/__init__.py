"""Typed algorithm parameters, declared as class attributes of a `BaseParameterSet`.

Values arrive as JSON: ISO strings for dates, real booleans only, integers that are
not booleans. A bad value raises `ParameterError` naming the parameter, the rule and
the offending value. Declarations are checked when the parameter set class is defined.

One module per family: `base` (the `Parameter` class and `ParameterError`),
`scalars` (numbers, strings, booleans, choices), `temporal` (dates, datetimes,
intervals) and `parameter_set` (`BaseParameterSet`); every name imports from here.
"""

from __future__ import annotations

from algomancy_core.parameters.base import MISSING as MISSING
from algomancy_core.parameters.base import Parameter, ParameterError
from algomancy_core.parameters.parameter_set import BaseParameterSet
from algomancy_core.parameters.scalars import (
    BooleanParameter,
    EnumParameter,
    FloatParameter,
    IntegerParameter,
    MultiEnumParameter,
    StringParameter,
)
from algomancy_core.parameters.temporal import (
    DateParameter,
    DateTimeParameter,
    Interval,
    IntervalParameter,
)

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
