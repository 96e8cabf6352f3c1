"""KPIs: named, unit-bearing numbers computed from a result."""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

from algomancy_core.quantities import display
from algomancy_core.result import BaseResult

#: Where a scenario's KPI values keep the details texts of its binary KPIs
#: (`{kpi name: text}`); no KPI may have this name.
DETAILS_KEY = "__details__"


class KpiDirection(StrEnum):
    """Which values are better."""

    HIGHER = "higher"
    LOWER = "lower"
    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class KpiError(Exception):
    """A KPI raised or returned something that is not a finite number."""


class BaseKPI(ABC):
    """A template for one KPI:

    class Throughput(BaseKPI):
        name = "throughput"
        unit = "items/s"
        direction = KpiDirection.HIGHER

        def compute(self, result):
            return result.values["items"] / result.values["seconds"]
    """

    name: ClassVar[str] = ""
    unit: ClassVar[str] = ""
    direction: ClassVar[KpiDirection] = KpiDirection.HIGHER
    #: None means no threshold; 0 is a valid threshold.
    threshold: ClassVar[float | None] = None
    description: ClassVar[str] = ""
    #: `length`, `time` or `mass`: the value (in `unit`) is also shown in the unit
    #: that reads best (`display`), e.g. 46063 m/day as 46.06 km/day.
    quantity: ClassVar[str | None] = None
    #: `number`, or `binary` for a pass/fail KPI (see `BinaryKPI`).
    kind: ClassVar[str] = "number"

    @classmethod
    def kpi_name(cls) -> str:
        return cls.name or cls.__name__

    @abstractmethod
    def compute(self, result: BaseResult) -> float:
        """The KPI's value for `result`."""

    def evaluate(self, result: BaseResult) -> float:
        """`compute`, checked: a KPI that raises or gives a non-number fails the run."""
        name = self.kpi_name()
        try:
            value: Any = self.compute(result)
        except Exception as exc:
            raise KpiError(f"KPI {name!r} failed: {type(exc).__name__}: {exc}") from exc
        # numbers.Real covers numpy's numbers too; a bool is not a measurement.
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise KpiError(f"KPI {name!r} returned {type(value).__name__}, not a number")
        value = float(value)
        if not math.isfinite(value):
            raise KpiError(f"KPI {name!r} returned {value}, not a finite number")
        return value

    def assess(self, result: BaseResult) -> tuple[float, str | None]:
        """The value (`evaluate`) and a details text (None: none)."""
        return self.evaluate(result), None

    @classmethod
    def display(cls, value: float | None) -> dict[str, Any] | None:
        """`{"value", "unit", "text"}` of `value` in the unit that reads best, or
        None without a `quantity`."""
        return display(value, cls.unit, cls.quantity)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        described: dict[str, Any] = {
            "name": cls.kpi_name(),
            "unit": cls.unit,
            "better_when": str(cls.direction),
            "threshold": cls.threshold,
            "description": cls.description,
        }
        # Only where they apply, so that plain KPIs keep the reference's shape.
        if cls.quantity is not None:
            described["quantity"] = cls.quantity
        if cls.kind != "number":
            described["kind"] = cls.kind
        return described


class BinaryKPI(BaseKPI):
    """A pass/fail KPI: `check` returns True (pass) or False (fail), or a pair
    `(passed, details)` whose text says why:

    class AllPlaced(BinaryKPI):
        name = "all_placed"

        def check(self, result):
            left = result.values["unassigned"]
            return left == 0, f"{left} SKUs without a location"

    Its value is 1.0 for a pass and 0.0 for a fail (threshold 1, at least), so a
    client that knows only numbers sees a fail as a breached threshold.
    """

    kind: ClassVar[str] = "binary"
    direction: ClassVar[KpiDirection] = KpiDirection.AT_LEAST
    threshold: ClassVar[float | None] = 1.0

    @abstractmethod
    def check(self, result: BaseResult) -> bool | tuple[bool, str]:
        """Whether `result` passes, optionally with a details text."""

    def compute(self, result: BaseResult) -> float:
        return self.assess(result)[0]

    def assess(self, result: BaseResult) -> tuple[float, str | None]:
        name = self.kpi_name()
        try:
            outcome: Any = self.check(result)
        except Exception as exc:
            raise KpiError(f"KPI {name!r} failed: {type(exc).__name__}: {exc}") from exc
        details = None
        if isinstance(outcome, tuple) and len(outcome) == 2:
            outcome, details = outcome
            if not isinstance(details, str):
                raise KpiError(f"KPI {name!r} gave details of type {type(details).__name__}")
        # numpy's bool_ is not a bool; accept it and nothing else.
        if type(outcome).__name__ not in ("bool", "bool_"):
            raise KpiError(f"KPI {name!r} returned {type(outcome).__name__}, not True or False")
        return (1.0 if outcome else 0.0), details


def kpi_values(kpis: Mapping[str, type[BaseKPI]], result: BaseResult) -> dict[str, Any]:
    """Every KPI's value for `result`, and under `DETAILS_KEY` the details texts of
    those that gave one (binary KPIs)."""
    values: dict[str, Any] = {}
    details: dict[str, str] = {}
    for name, kpi in kpis.items():
        values[name], text = kpi().assess(result)
        if text is not None:
            details[name] = text
    if details:
        values[DETAILS_KEY] = details
    return values
