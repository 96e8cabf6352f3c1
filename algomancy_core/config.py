"""`CoreConfig`: the domain wiring and how state is kept and work is run."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from algomancy_core.algorithm import BaseAlgorithm
from algomancy_core.database_url import check_database_url
from algomancy_core.errors import ConfigurationError
from algomancy_core.kpi import DETAILS_KEY, BaseKPI
from algomancy_core.names import MAX_NAME_LENGTH
from algomancy_core.parameters import ParameterError
from algomancy_core.quantities import check_quantity
from algomancy_core.views import check_views
from algomancy_data import DataSource, Schema
from algomancy_data.relations import check_references

EXECUTORS = ("thread", "process", "dask")


def _registry(field: str, items: Any, base: type, name_of: Callable[[Any], str]) -> dict[str, Any]:
    """Accept `{name: cls}` or `[cls, ...]`; check every entry is a subclass of `base`."""
    if items is None:
        return {}
    pairs: Iterable[tuple[str, Any]]
    if isinstance(items, Mapping):
        pairs = items.items()
    elif isinstance(items, Iterable) and not isinstance(items, str | bytes):
        pairs = (
            (name_of(cls) if inspect.isclass(cls) and issubclass(cls, base) else "", cls)
            for cls in items
        )
    else:
        raise ConfigurationError(f"{field}: expected a dict of name to class or a list of classes")
    out: dict[str, Any] = {}
    for name, cls in pairs:
        if not (inspect.isclass(cls) and issubclass(cls, base)):
            raise ConfigurationError(f"{field}: {cls!r} is not a subclass of {base.__name__}")
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"{field}: every entry needs a non-empty name")
        if name in out:
            raise ConfigurationError(f"{field}: the name {name!r} is used twice")
        out[name] = cls
    return out


@dataclasses.dataclass
class CoreConfig:
    """The wiring of a domain, plus where state lives and how scenarios run.

    Validation happens on construction; a bad value raises `ConfigurationError`
    (a `ValueError`) naming the field.
    """

    etl_factory: Any = None
    """An `ETLFactory` subclass (built with the schemas), an instance, or None for
    the default factory driven by `schemas` alone."""
    kpis: Any = None
    """KPI templates: `{name: BaseKPI subclass}` or a list of subclasses."""
    algorithms: Any = None
    """Algorithm templates: `{name: BaseAlgorithm subclass}` or a list."""
    schemas: Any = None
    """`Schema` declarations of the files the ETL accepts."""
    data_object_type: type[DataSource] = DataSource
    has_persistent_state: bool = False
    data_path: str | Path = "algomancy-data"
    autocreate: bool = False
    """Create scenarios for every new dataset: one of `default_algo` if set, else one
    per algorithm (default parameters)."""
    default_algo: str | None = None
    """The algorithm `autocreate` uses (the reference's field)."""
    default_algo_params_values: Mapping[str, Any] | None = None
    """Parameter values of the autocreated `default_algo` scenario."""
    autorun: bool = False
    """Enqueue scenarios as soon as they are created."""
    title: str = "Algomancy API"
    initial_datasets: Callable[[], Mapping[str, DataSource]] | None = None
    """Called once at start-up; every new session starts with these datasets."""
    database_url: str | None = None
    """SQLAlchemy URL of a shared database (PostgreSQL for several processes);
    overrides the SQLite file under `data_path`."""
    executor: str = "thread"
    max_workers: int = 2
    dask_address: str | None = None
    run_timeout: float | None = None
    """Seconds after which any run is cancelled and fails; None for no limit."""
    lease_seconds: float = 30.0
    """How long a run's claim holds without renewal before it counts as interrupted."""
    requeue_interrupted: bool = False
    """Re-queue (rather than fail) runs interrupted by a crash."""
    workers: int = 1
    """How many server processes share this configuration."""
    max_name_chars: int = MAX_NAME_LENGTH
    """Longest session display name, scenario tag or dataset key."""
    max_sessions_per_user: int = 100
    """Sessions one user may own (all sessions when authentication is off)."""
    max_scenarios_per_session: int = 10_000
    """Scenarios one session may hold."""
    max_experiment_scenarios: int = 1_000
    """Points (scenarios) one experiment may plan; a request may set a lower cap."""
    audit_retention_days: int = 90
    """Days audit records are kept; older ones are pruned by the housekeeping."""
    dataset_versions_kept: int = 5
    """Versions of a dataset kept when no scenario uses them (per dataset name; the
    latest is always kept, and versions scenarios use are never dropped)."""

    def __post_init__(self) -> None:
        self.algorithms = _registry(
            "algorithms", self.algorithms, BaseAlgorithm, lambda c: c.algorithm_name()
        )
        for name, algorithm in self.algorithms.items():
            check_views(name, algorithm.views)
        self.kpis = _registry("kpis", self.kpis, BaseKPI, lambda c: c.kpi_name())
        for name, kpi in self.kpis.items():
            if name == DETAILS_KEY:
                raise ConfigurationError(f"kpis: the name {DETAILS_KEY!r} is reserved")
            check_quantity(name, kpi.quantity, kpi.unit)
        self.schemas = list(self.schemas or [])
        try:
            check_references([s for s in self.schemas if isinstance(s, Schema)])
        except ValueError as exc:
            raise ConfigurationError(f"schemas: {exc}") from None
        if not (
            inspect.isclass(self.data_object_type) and issubclass(self.data_object_type, DataSource)
        ):
            raise ConfigurationError("data_object_type: must be DataSource or a subclass")
        for flag in ("has_persistent_state", "autocreate", "autorun", "requeue_interrupted"):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigurationError(f"{flag}: must be true or false")
        self._check_default_algo()
        if not isinstance(self.data_path, str | Path) or not str(self.data_path).strip():
            raise ConfigurationError("data_path: must be a non-empty path")
        if self.executor not in EXECUTORS:
            raise ConfigurationError(f"executor: must be one of {', '.join(EXECUTORS)}")
        if self.executor == "dask" and not self.dask_address:
            raise ConfigurationError("dask_address: required when executor is 'dask'")
        for field in (
            "max_workers",
            "workers",
            "max_name_chars",
            "max_sessions_per_user",
            "max_scenarios_per_session",
            "max_experiment_scenarios",
            "audit_retention_days",
            "dataset_versions_kept",
        ):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{field}: must be an integer >= 1")
        if self.run_timeout is not None and not self.run_timeout > 0:
            raise ConfigurationError("run_timeout: must be a positive number of seconds")
        if not self.lease_seconds > 0:
            raise ConfigurationError("lease_seconds: must be a positive number of seconds")
        if self.database_url is not None and not str(self.database_url).strip():
            raise ConfigurationError("database_url: must not be blank")
        if self.database_url is not None:
            check_database_url(str(self.database_url))
        if self.workers > 1 and not self.is_shared_state:
            raise ConfigurationError(
                "workers: the in-memory store keeps state inside one process, so several "
                "workers would each see a different state; set has_persistent_state=True "
                "(SQLite under data_path) or database_url (PostgreSQL) to run several workers"
            )

    def _check_default_algo(self) -> None:
        if self.default_algo is None:
            if self.default_algo_params_values is not None:
                raise ConfigurationError(
                    "default_algo_params_values: set default_algo to say which algorithm"
                )
            return
        if self.default_algo not in self.algorithms:
            known = ", ".join(self.algorithms) or "none"
            raise ConfigurationError(
                f"default_algo: no algorithm named {self.default_algo!r} (available: {known})"
            )
        values = self.default_algo_params_values
        if values is not None and not isinstance(values, Mapping):
            raise ConfigurationError("default_algo_params_values: must be a dict of values")
        try:
            self.algorithms[self.default_algo].parameters().set_values(values)
        except ParameterError as exc:
            raise ConfigurationError(f"default_algo_params_values: {exc}") from None
        self.default_algo_params_values = dict(values) if values is not None else None

    @property
    def is_shared_state(self) -> bool:
        """True when several processes can share the configured store."""
        return self.database_url is not None or self.has_persistent_state

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> CoreConfig:
        unknown = sorted(set(values) - set(cls.field_names()))
        if unknown:
            raise ConfigurationError(f"{unknown[0]}: unknown configuration field")
        return cls(**values)
