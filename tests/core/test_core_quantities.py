"""KPIs as quantities (display scaling) and binary pass/fail KPIs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from algomancy_core import (
    BaseKPI,
    BaseResult,
    BinaryKPI,
    ConfigurationError,
    CoreConfig,
    KpiError,
)
from algomancy_core.kpi import DETAILS_KEY, kpi_values
from algomancy_core.quantities import display
from tests.core.conftest import Instant, items


@pytest.mark.parametrize(
    ("value", "unit", "quantity", "expected"),
    [
        (46063.22, "m/day", "length", {"value": 46.06, "unit": "km/day", "text": "46.06 km/day"}),
        (12.3, "m", "length", {"value": 12.3, "unit": "m", "text": "12.3 m"}),
        (0.25, "m", "length", {"value": 250.0, "unit": "mm", "text": "250 mm"}),
        (5400.0, "s", "time", {"value": 1.5, "unit": "h", "text": "1.5 h"}),
        (90.0, "s", "time", {"value": 1.5, "unit": "min", "text": "1.5 min"}),
        (3.0, "h", "time", {"value": 3.0, "unit": "h", "text": "3 h"}),
        (172800.0, "s", "time", {"value": 2.0, "unit": "d", "text": "2 d"}),
        (2500.0, "kg", "mass", {"value": 2.5, "unit": "t", "text": "2.5 t"}),
        (-2500.0, "kg", "mass", {"value": -2.5, "unit": "t", "text": "-2.5 t"}),
        (0.0, "kg", "mass", {"value": 0.0, "unit": "kg", "text": "0 kg"}),
        (3.2e10, "m", "length", {"value": 32000000.0, "unit": "km", "text": "32,000,000 km"}),
    ],
)
def test_a_quantity_is_shown_in_the_unit_that_reads_best(
    value: float, unit: str, quantity: str, expected: dict[str, Any]
) -> None:
    assert display(value, unit, quantity) == expected


def test_no_quantity_or_no_value_has_no_display() -> None:
    assert display(12.0, "m", None) is None
    assert display(None, "m", "length") is None
    assert display(float("nan"), "m", "length") is None


class Distance(BaseKPI):
    name = "distance"
    unit = "m/day"
    quantity = "length"

    def compute(self, result: BaseResult) -> float:
        return float(result.values["metres"])


class AllPlaced(BinaryKPI):
    name = "all_placed"

    def check(self, result: BaseResult) -> tuple[bool, str]:
        left = result.values["left"]
        return left == 0, f"{left} SKUs without a location"


class Positive(BinaryKPI):
    name = "positive"

    def check(self, result: BaseResult) -> Any:
        return np.bool_(result.values["metres"] > 0)


def test_binary_kpis_are_one_or_zero_with_details() -> None:
    kpis = {"distance": Distance, "all_placed": AllPlaced, "positive": Positive}
    passed = kpi_values(kpis, BaseResult({"metres": 1500, "left": 0}))
    assert passed == {
        "distance": 1500.0,
        "all_placed": 1.0,
        "positive": 1.0,
        DETAILS_KEY: {"all_placed": "0 SKUs without a location"},
    }
    failed = kpi_values(kpis, BaseResult({"metres": 0, "left": 4}))
    assert failed["all_placed"] == 0.0 and failed["positive"] == 0.0
    assert failed[DETAILS_KEY] == {"all_placed": "4 SKUs without a location"}
    assert kpi_values({"distance": Distance}, BaseResult({"metres": 1})) == {"distance": 1.0}
    assert Distance.display(1500.0) == {"value": 1.5, "unit": "km/day", "text": "1.5 km/day"}
    assert AllPlaced.describe()["kind"] == "binary" and "quantity" not in AllPlaced.describe()
    assert Distance.describe()["quantity"] == "length" and "kind" not in Distance.describe()


def test_a_binary_kpi_that_returns_no_boolean_fails_the_run() -> None:
    class Number(BinaryKPI):
        name = "number"

        def check(self, result: BaseResult) -> Any:
            return 1

    class BadDetails(BinaryKPI):
        name = "bad_details"

        def check(self, result: BaseResult) -> Any:
            return True, 3

    with pytest.raises(KpiError, match="'number' returned int, not True or False"):
        Number().assess(BaseResult({}))
    with pytest.raises(KpiError, match="details of type int"):
        BadDetails().assess(BaseResult({}))


def test_a_quantity_must_fit_its_unit() -> None:
    class Miles(BaseKPI):
        name = "miles"
        unit = "mi"
        quantity = "length"

        def compute(self, result: BaseResult) -> float:
            return 1.0

    class Volume(Miles):
        name = "volume"
        unit = "l"
        quantity = "volume"

    base = {"algorithms": [Instant], "initial_datasets": lambda: {"d": items()}}
    with pytest.raises(ConfigurationError, match="'miles' is a length in 'mi'; its unit must"):
        CoreConfig(kpis=[Miles], **base)
    with pytest.raises(ConfigurationError, match="quantity 'volume'; known: length, time, mass"):
        CoreConfig(kpis=[Volume], **base)
    CoreConfig(kpis=[Distance, AllPlaced], **base)
