"""KPIs: named, unit-bearing numbers computed from a result."""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, ClassVar

from algomancy_core.result import BaseResult


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

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "name": cls.kpi_name(),
            "unit": cls.unit,
            "better_when": str(cls.direction),
            "threshold": cls.threshold,
            "description": cls.description,
        }
