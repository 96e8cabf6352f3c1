"""The state of a `MemoryStore` behind its one lock, and the upkeep of its indexes."""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from algomancy_core.audit import AuditLog, MemoryAuditLog
from algomancy_core.changes import CHANGES_KEPT, Change
from algomancy_core.deliveries import DeliveryQueue, MemoryDeliveryQueue
from algomancy_core.errors import NotFoundError
from algomancy_core.experiments.book import ExperimentBook, MemoryExperimentBook
from algomancy_core.names import name_key
from algomancy_core.reports import Report
from algomancy_core.scenario import ScenarioRecord
from algomancy_core.stores.base import (
    DatasetVersion,
    SessionRecord,
    scenario_changes,
)
from algomancy_core.stores.memory.runqueue import RunQueue
from algomancy_core.studies.book import MemoryStudyBook, StudyBook
from algomancy_data import DataSource


class MemoryState:
    """Every table of the memory store as dictionaries; the parts (`sessions`,
    `datasets`, `scenarios`, `queue`, `changes`) read and write them under `_lock`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._sessions: dict[str, SessionRecord] = {}
        self._names: dict[tuple[str | None, str], str] = {}
        # `names.name_key` of each display name (per owner) and dataset key (per
        # session): look-alike names are one name.
        self._name_keys: dict[tuple[str | None, str], str] = {}
        self._dataset_keys: dict[str, dict[str, str]] = {}
        # Session → key → its versions, oldest first; session → digest → content.
        self._datasets: dict[str, dict[str, list[DatasetVersion]]] = {}
        self._blobs: dict[str, dict[str, DataSource]] = {}
        self._scenarios: dict[str, ScenarioRecord] = {}
        self._by_session: dict[str, dict[str, None]] = {}
        # Session id -> `names.name_key` of each scenario tag -> the scenario's id: a
        # new tag is checked in one look-up, not against every scenario of the session
        # (2,000 points were 4 million `name_key`s, most of an experiment's creation).
        self._tag_keys: dict[str, dict[str, str]] = {}
        # Queued and processing scenarios, indexed for claims.
        self._runs = RunQueue()
        self._result_tables: dict[str, DataSource] = {}
        # Scenario id → the intermediate values of its latest run.
        self._reports: dict[str, list[Report]] = {}
        self.audit: AuditLog = MemoryAuditLog()
        self.deliveries: DeliveryQueue = MemoryDeliveryQueue()
        self._experiments = MemoryExperimentBook()
        self.experiments: ExperimentBook = self._experiments
        self._studies = MemoryStudyBook()
        self.studies: StudyBook = self._studies
        self._changes: deque[Change] = deque(maxlen=CHANGES_KEPT)
        self._changes_lock = threading.Lock()
        self._last_seq = 0
        # Session id → the scenario id pinned as its baseline.
        self._baselines: dict[str, str] = {}

    def _require_session(self, session_id: str) -> SessionRecord:
        record = self._sessions.get(session_id)
        if record is None:
            raise NotFoundError(f"session {session_id!r} not found")
        return record

    def _drop_scenario(self, scenario_id: str) -> None:
        self._result_tables.pop(scenario_id, None)
        self._reports.pop(scenario_id, None)
        record = self._scenarios.pop(scenario_id)
        self._by_session.get(record.session_id, {}).pop(scenario_id, None)
        tags = self._tag_keys.get(record.session_id, {})
        if tags.get(name_key(record.tag)) == scenario_id:
            del tags[name_key(record.tag)]
        self._runs.drop(record)

    def _index(self, record: ScenarioRecord) -> None:
        """Keep the queue and the processing index in step with `record`."""
        self._runs.index(record)

    def _replace(self, record: ScenarioRecord, changes: dict[str, Any]) -> ScenarioRecord:
        updated = scenario_changes(record, changes)
        self._scenarios[record.id] = updated
        if updated.status is not record.status:
            self._index(updated)
        return updated

    if TYPE_CHECKING:

        def dataset_version(
            self, session_id: str, key: str, version: int | None = None
        ) -> DatasetVersion: ...
