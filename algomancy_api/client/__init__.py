"""The Python client of the HTTP API: `AlgomancyClient` (sync) and
`AsyncAlgomancyClient` (async, the same methods), typed responses, `AlgomancyError`.

Configured from ALGOMANCY_URL, ALGOMANCY_API_KEY and ALGOMANCY_SESSION when the
arguments are not given."""

from algomancy_api.client._base import AlgomancyError
from algomancy_api.client.aio import AsyncAlgomancyClient
from algomancy_api.client.models import (
    TERMINAL,
    DatasetVersion,
    EtlResult,
    EventDataset,
    EventScenario,
    EventSession,
    Experiment,
    Frame,
    Health,
    KpiDescriptor,
    KpiValue,
    Me,
    ParameterDescriptor,
    Scenario,
    ScenarioEvent,
    ScenarioStatus,
    Session,
    SessionEvent,
    SessionList,
    TableInfo,
    ValidationMessage,
)
from algomancy_api.client.studies import Study
from algomancy_api.client.sync import AlgomancyClient

__all__ = [
    "TERMINAL",
    "AlgomancyClient",
    "AlgomancyError",
    "AsyncAlgomancyClient",
    "DatasetVersion",
    "EtlResult",
    "EventDataset",
    "EventScenario",
    "EventSession",
    "Experiment",
    "Frame",
    "Health",
    "KpiDescriptor",
    "KpiValue",
    "Me",
    "ParameterDescriptor",
    "Scenario",
    "ScenarioEvent",
    "ScenarioStatus",
    "Session",
    "SessionEvent",
    "SessionList",
    "Study",
    "TableInfo",
    "ValidationMessage",
]
