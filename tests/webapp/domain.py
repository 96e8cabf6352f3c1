"""The warehouse example plus an algorithm with one parameter of every type, so that
the browser tests see the scenario form handle each of them."""

from __future__ import annotations

from typing import Any

from algomancy_api.webapp import STATIC_DIR
from algomancy_core import (
    BaseAlgorithm,
    BaseParameterSet,
    BaseResult,
    BinaryKPI,
    BooleanParameter,
    DateParameter,
    DateTimeParameter,
    EnumParameter,
    FloatParameter,
    IntegerParameter,
    IntervalParameter,
    MultiEnumParameter,
    ResultView,
    RunContext,
    StringParameter,
)
from algomancy_data import DataSource
from algomancy_example.algorithms import ALGORITHMS, ABCSlotting
from algomancy_example.domain import example_settings
from algomancy_example.kpis import KPIS
from algomancy_example.views import VIEWS


class EveryParameter(BaseParameterSet):
    count = IntegerParameter(default=3, min=1, max=10, description="How many")
    ratio = FloatParameter(default=0.5, min=0.0, max=1.0, description="A share")
    label = StringParameter(default="hello", max_length=20, description="Free text")
    verbose = BooleanParameter(default=False, description="Say more")
    mode = EnumParameter(choices=["fast", "thorough"], default="fast", description="How")
    regions = MultiEnumParameter(
        choices=["north", "south", "east"], default=["north"], description="Where"
    )
    day = DateParameter(default="2024-03-01", min="2024-01-01", max="2024-12-31")
    moment = DateTimeParameter(default="2024-03-01T08:00:00")
    window = IntervalParameter(default={"start": "2024-01-01", "end": "2024-01-31"})


class EveryType(BaseAlgorithm):
    """Echoes its parameters as the result."""

    name = "Every parameter"
    description = "Echoes its parameters"
    parameters = EveryParameter
    params: EveryParameter

    def run(self, data: DataSource, ctx: RunContext) -> BaseResult:
        ctx.progress(1.0, "done")
        return BaseResult({"echo": self.params.to_json()})


def settings() -> dict[str, Any]:
    return example_settings(algorithms=[*ALGORITHMS, EveryType])


def secured() -> dict[str, Any]:
    """The same, with authentication on: API keys for alice and bob."""
    return settings() | {"api_keys": {"k-alice": "alice", "k-bob": "bob"}}


class AllPlaced(BinaryKPI):
    """Pass when every SKU has a location."""

    name = "all_placed"
    description = "Every SKU has a pick location"

    def check(self, result: BaseResult) -> tuple[bool, str]:
        left = int(result.values.get("unassigned", 0))
        return left == 0, f"{left} SKUs in the overflow area"


def with_binary() -> dict[str, Any]:
    """The example plus a binary KPI (pass/fail with details)."""
    return settings() | {"kpis": [*KPIS, AllPlaced]}


def branded() -> dict[str, Any]:
    """The example with the app's settings: title, logo, accent colour, no session
    picker; API keys for root (an admin) and bob."""
    return settings() | {
        "app_title": "Slotting desk",
        "app_logo": str(STATIC_DIR / "favicon.svg"),
        "app_accent": "#0f766e",
        "app_features": {"session_picker": False},
        "api_keys": {"k-root": "root", "k-bob": "bob"},
        "admin_users": ["root"],
    }


MODULE_VIEW = ResultView(
    "closest-skus",
    "Closest SKUs",
    kind="module",
    table="assignment",
    module="tests.webapp:result_module.js",
    description="Drawn by the domain's own ES module",
)


class ListedABC(ABCSlotting):
    """ABC slotting with a result view drawn by an ES module as well."""

    views = [*VIEWS, MODULE_VIEW]


def with_module() -> dict[str, Any]:
    """The example with a `module` result view on ABC slotting."""
    algorithms = [ListedABC if a is ABCSlotting else a for a in ALGORITHMS]
    return settings() | {"algorithms": [*algorithms, EveryType]}
