"""Algorithm and KPI discovery, for clients that build forms for unseen algorithms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from algomancy_api.deps import ManagerDep
from algomancy_api.models import AlgorithmNames, AlgorithmParameters, KpiDescriptor, KpiNames

router = APIRouter(prefix="/sessions/{session_id}", tags=["discovery"])


@router.get("/algorithms", response_model=AlgorithmNames, summary="List algorithms")
def list_algorithms(manager: ManagerDep) -> dict[str, list[str]]:
    """Names of the algorithm templates, as `{"algorithms": [...]}`."""
    return {"algorithms": manager.available_algorithms}


@router.get(
    "/algorithms/{algorithm_name}/parameters",
    response_model=AlgorithmParameters,
    summary="Describe an algorithm's parameters",
    responses={404: {"description": "No such algorithm."}},
)
def algorithm_parameters(algorithm_name: str, manager: ManagerDep) -> dict[str, Any]:
    """One descriptor per parameter: `name`, `type`, `required`, `value`, and
    `default`, `min`, `max`, `choices`, `description` where they apply."""
    algorithm = manager.algorithm(algorithm_name)
    return {"name": algorithm_name, "parameters": algorithm.parameters().describe()}


@router.get("/kpis", response_model=KpiNames, summary="List KPIs")
def list_kpis(manager: ManagerDep) -> dict[str, list[str]]:
    """Names of the KPI templates, as `{"kpis": [...]}`."""
    return {"kpis": manager.available_kpis}


@router.get("/kpis/describe", response_model=list[KpiDescriptor], summary="Describe the KPIs")
def describe_kpis(manager: ManagerDep) -> list[dict[str, Any]]:
    """Name, unit, which values are better, and threshold of each KPI."""
    return [kpi.describe() for kpi in manager.kpi_templates.values()]
