"""The request and response models, under the names of the reference algomancy-api.

Our own names live in `algomancy_api.models`; these aliases let code written for
the reference (`from algomancy_api.schemas import CreateScenarioRequest`) import.
"""

from __future__ import annotations

from algomancy_api.models import (
    AlgorithmConfig,
    AlgorithmNames,
    CopySession,
    CreateScenario,
    CreateSession,
    DeriveDataset,
    EtlOut,
    KeyList,
    KpiNames,
    KpiValue,
    RenameSession,
    ScenarioOut,
    ScenarioStatusOut,
    SessionItem,
    SessionList,
)

CreateSessionRequest = CreateSession
CopySessionRequest = CopySession
RenameSessionRequest = RenameSession
SessionInfo = SessionItem
SessionsListResponse = SessionList
AlgorithmsListResponse = AlgorithmNames
KpisListResponse = KpiNames
CreateScenarioRequest = CreateScenario
ScenarioStatusResponse = ScenarioStatusOut
KpiSummary = KpiValue
AlgorithmSummary = AlgorithmConfig
ScenarioResponse = ScenarioOut
DataKeysResponse = KeyList
DeriveDataRequest = DeriveDataset
EtlResponse = EtlOut

__all__ = [
    "AlgorithmSummary",
    "AlgorithmsListResponse",
    "CopySessionRequest",
    "CreateScenarioRequest",
    "CreateSessionRequest",
    "DataKeysResponse",
    "DeriveDataRequest",
    "EtlResponse",
    "KpiSummary",
    "KpisListResponse",
    "RenameSessionRequest",
    "ScenarioResponse",
    "ScenarioStatusResponse",
    "SessionInfo",
    "SessionsListResponse",
]
