"""Scenarios: parameters, algorithms, KPIs, results, sessions, stores and executors."""

from algomancy_core.algorithm import BaseAlgorithm, RunCancelledError, RunContext
from algomancy_core.compat import AlgomancyError, Engine
from algomancy_core.config import CoreConfig
from algomancy_core.errors import (
    ConfigurationError,
    ConflictError,
    CoreError,
    InvalidInputError,
    InvalidTransitionError,
    NotFoundError,
)
from algomancy_core.kpi import BaseKPI, BinaryKPI, KpiDirection, KpiError
from algomancy_core.parameters import (
    BaseParameterSet,
    BooleanParameter,
    DateParameter,
    DateTimeParameter,
    EnumParameter,
    FloatParameter,
    IntegerParameter,
    Interval,
    IntervalParameter,
    MultiEnumParameter,
    Parameter,
    ParameterError,
    StringParameter,
)
from algomancy_core.result import BaseResult
from algomancy_core.runtime import Runtime
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus
from algomancy_core.scenario_manager import ScenarioManager
from algomancy_core.session_manager import SessionManager
from algomancy_core.stores import MemoryStore, SessionRecord, Store
from algomancy_core.views import ResultView

__all__ = [
    "AlgomancyError",
    "BaseAlgorithm",
    "BaseKPI",
    "BaseParameterSet",
    "BaseResult",
    "BinaryKPI",
    "BooleanParameter",
    "ConfigurationError",
    "ConflictError",
    "CoreConfig",
    "CoreError",
    "DateParameter",
    "DateTimeParameter",
    "Engine",
    "EnumParameter",
    "FloatParameter",
    "IntegerParameter",
    "Interval",
    "IntervalParameter",
    "InvalidInputError",
    "InvalidTransitionError",
    "KpiDirection",
    "KpiError",
    "MemoryStore",
    "MultiEnumParameter",
    "NotFoundError",
    "Parameter",
    "ParameterError",
    "ResultView",
    "RunCancelledError",
    "RunContext",
    "Runtime",
    "ScenarioManager",
    "ScenarioRecord",
    "ScenarioStatus",
    "SessionManager",
    "SessionRecord",
    "Store",
    "StringParameter",
]
