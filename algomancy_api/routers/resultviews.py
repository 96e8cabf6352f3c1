"""Result views: which views an algorithm declares, and one view of a scenario's result."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from algomancy_api.deps import ManagerDep
from algomancy_api.resultviews import described, view_answer
from algomancy_core import NotFoundError, ResultView, ScenarioManager

router = APIRouter(prefix="/sessions/{session_id}", tags=["views"])


class ResultViewDescriptor(BaseModel):
    name: str
    title: str
    kind: Literal["bar", "line", "scatter", "heatmap", "module"]
    table: str = Field(description="The result table the view draws.")
    encoding: dict[str, str] = Field(
        description="Channel (`x`, `y`, `value`, `series`) → column of the table."
    )
    aggregate: Literal["sum", "mean", "min", "max", "count", "none"]
    unit: str
    description: str
    module: str | None = Field(
        description="A `module` view's ES module, `package:path/in/package.js`; else null."
    )
    module_url: str | None = Field(
        description="Where a `module` view's module is served (`/app/modules/...`); else null."
    )


class AlgorithmViews(BaseModel):
    name: str
    views: list[ResultViewDescriptor]


class ScenarioRef(BaseModel):
    id: str
    tag: str


class ResultViewData(BaseModel):
    view: ResultViewDescriptor
    scenario: ScenarioRef
    points: list[dict[str, Any]] = Field(
        description="The (aggregated) points: `x`, `y`, and `value` or `series` where named."
    )
    truncated: bool = Field(description="True when points past the 20 000th were left out.")
    chart: dict[str, Any] = Field(
        description="A Chart.js configuration (`type`, `data`, `options`) of the points; "
        "a heat map's also has `scale` (`min`, `max`, `colours`, `unit`)."
    )


def find_view(manager: ScenarioManager, algorithm: str, name: str) -> ResultView:
    views = manager.algorithm(algorithm).views
    for view in views:
        if view.name == name:
            return view
    listed = ", ".join(v.name for v in views) or "none"
    raise NotFoundError(f"algorithm {algorithm!r} has no result view {name!r} (views: {listed})")


@router.get(
    "/algorithms/{algorithm_name}/views",
    response_model=AlgorithmViews,
    summary="List an algorithm's result views",
    responses={404: {"description": "No such session or algorithm."}},
)
def algorithm_views(algorithm_name: str, manager: ManagerDep) -> dict[str, Any]:
    """The views the algorithm declares for its results (`ResultView`): name,
    title, kind, the result table and which column goes on which channel."""
    views = manager.algorithm(algorithm_name).views
    return {"name": algorithm_name, "views": [described(view) for view in views]}


@router.get(
    "/scenarios/{scenario_id}/result/views/{view_name}",
    response_model=ResultViewData,
    summary="One result view of a scenario, as points and a Chart.js configuration",
    responses={
        404: {
            "description": "No such session, scenario or view, or the result lacks "
            "the view's table."
        },
        409: {
            "description": "The scenario is not complete, its result table lacks a "
            "column the view names, or the view is a module (drawn in the browser)."
        },
    },
)
def scenario_result_view(scenario_id: str, view_name: str, manager: ManagerDep) -> dict[str, Any]:
    """The view's points, aggregated as it says (rows sharing `x` and `y`, or `x`
    and `series`), and a Chart.js configuration drawing them."""
    record = manager.get_scenario(scenario_id)
    view = find_view(manager, record.algorithm, view_name)
    tables = manager.result_tables(scenario_id)
    return view_answer(view, tables, record.id, record.tag)
