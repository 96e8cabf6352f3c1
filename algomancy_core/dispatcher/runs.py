"""The runs a dispatcher holds, and what its parts (`loop`, `progress`, `outcomes`,
`leases`) share: those runs, under one lock."""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from datetime import timedelta
from typing import Any

from algomancy_core.executors.base import Executor, RunHandle
from algomancy_core.kpi import BaseKPI
from algomancy_core.lifecycle import Lifecycle
from algomancy_core.observe import Observers
from algomancy_core.reports import Report
from algomancy_core.scenario import (
    ScenarioRecord,
)
from algomancy_core.stores.base import Store


@dataclasses.dataclass
class Run:
    record: ScenarioRecord
    handle: RunHandle | None = None
    deadline: float | None = None
    #: Its time limit in seconds (None: none); the deadline counts from its start.
    limit: float | None = None
    stop_reason: str | None = None
    progress: float = 0.0
    message: str | None = None
    flushed_at: float = 0.0
    dirty: bool = False
    #: The run's first report, until the dispatcher has written it.
    first: tuple[float, str | None] | None = None
    started_at: float = dataclasses.field(default_factory=time.monotonic)
    #: The `lineage` and `fingerprint` fields written with the run's end.
    lineage: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Its intermediate values not written yet, and when they were last written.
    reports: list[Report] = dataclasses.field(default_factory=list)
    reports_flushed_at: float = -math.inf
    #: What its end writes when it was stopped on request (`scenario.stop_fields`).
    stop_fields: dict[str, Any] = dataclasses.field(default_factory=dict)


class RunsHeld:
    """The state the parts of `Dispatcher` share (set up by `Dispatcher.__init__`)."""

    lifecycle: Lifecycle
    store: Store
    executor: Executor
    kpis: dict[str, type[BaseKPI]]
    observers: Observers
    owner: str
    lease: timedelta
    progress_interval: float
    requeue_interrupted: bool
    audit_retention: timedelta | None
    _runs: dict[str, Run]
    _lock: threading.Lock
    #: Held while intermediate values are taken from a run and written: writes of a
    #: run's values never overtake one another, nor the run's end.
    _reports_lock: threading.Lock
    _wake: threading.Event
    _last_housekeeping: float
    _last_audit_prune: float
