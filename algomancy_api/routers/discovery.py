"""Algorithm and KPI discovery, for clients that build forms for unseen algorithms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from algomancy_api.deps import ManagerDep
from algomancy_api.models import AlgorithmParameters, KpiDescriptor

router = APIRouter(prefix="/sessions/{sid}", tags=["discovery"])


@router.get("/algorithms", response_model=list[str], summary="List algorithms")
def list_algorithms(manager: ManagerDep) -> list[str]:
    """Names of the algorithm templates."""
    return manager.available_algorithms


@router.get(
    "/algorithms/{name}/parameters",
    response_model=AlgorithmParameters,
    summary="Describe an algorithm's parameters",
    responses={404: {"description": "No such algorithm."}},
)
def algorithm_parameters(name: str, manager: ManagerDep) -> dict[str, Any]:
    """One descriptor per parameter: `name`, `type`, `required`, `value`, and
    `default`, `min`, `max`, `choices`, `description` where they apply."""
    algorithm = manager.algorithm(name)
    return {"name": name, "parameters": algorithm.parameters().describe()}


@router.get("/kpis", response_model=list[str], summary="List KPIs")
def list_kpis(manager: ManagerDep) -> list[str]:
    """Names of the KPI templates."""
    return manager.available_kpis


@router.get("/kpis/describe", response_model=list[KpiDescriptor], summary="Describe the KPIs")
def describe_kpis(manager: ManagerDep) -> list[dict[str, Any]]:
    """Name, unit, which values are better, and threshold of each KPI."""
    return [kpi.describe() for kpi in manager.kpi_templates.values()]
