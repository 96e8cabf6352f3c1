"""`MemoryStore`: the whole state in this process's memory, behind one lock."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from algomancy_core.audit import AuditLog, MemoryAuditLog
from algomancy_core.changes import CHANGES_KEPT, Change
from algomancy_core.decisions import baseline_pinned
from algomancy_core.deliveries import DeliveryQueue, MemoryDeliveryQueue
from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.experiments.book import ExperimentBook, MemoryExperimentBook
from algomancy_core.names import dataset_taken, name_key, session_taken, tag_taken
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, Transition, utcnow
from algomancy_core.stores.base import (
    DEFAULT_VERSIONS_KEPT,
    DatasetDeletion,
    DatasetVersion,
    ScenarioProgress,
    SessionRecord,
    scenario_changes,
    used_versions,
    versions_to_drop,
)
from algomancy_core.stores.versions import as_stored, as_version
from algomancy_data import DataSource, content_digest


class MemoryStore:
    """A store for one process. Nothing survives a restart.

    Records are immutable snapshots: readers get the current object and writers
    replace it, so a status poll is a dictionary lookup under a short lock.
    """

    shared = False
    inline_reads = True
    records_scenario_changes = False

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
        # Queued scenario ids in queue order (dicts keep insertion order).
        self._queued: dict[str, None] = {}
        self._processing_sessions: dict[str, str] = {}
        self._result_tables: dict[str, DataSource] = {}
        self.audit: AuditLog = MemoryAuditLog()
        self.deliveries: DeliveryQueue = MemoryDeliveryQueue()
        self._experiments = MemoryExperimentBook()
        self.experiments: ExperimentBook = self._experiments
        self._changes: deque[Change] = deque(maxlen=CHANGES_KEPT)
        self._changes_lock = threading.Lock()
        self._last_seq = 0
        # Session id → the scenario id pinned as its baseline.
        self._baselines: dict[str, str] = {}

    # -- sessions ------------------------------------------------------------
    def create_session(self, record: SessionRecord) -> None:
        with self._lock:
            self._check_session_name(record.display_name, record.owner, record.id)
            self._sessions[record.id] = record
            self._names[(record.owner, record.display_name)] = record.id
            self._name_keys[(record.owner, name_key(record.display_name))] = record.id
            self._datasets[record.id] = {}
            self._blobs[record.id] = {}
            self._dataset_keys[record.id] = {}
            self._by_session[record.id] = {}

    def _check_session_name(self, display_name: str, owner: str | None, session_id: str) -> None:
        other = self._name_keys.get((owner, name_key(display_name)))
        if other is not None and other != session_id:
            raise session_taken(display_name, self._sessions[other].display_name)

    def get_session(self, session_id: str) -> SessionRecord | None:
        return self._sessions.get(session_id)

    def find_session(self, display_name: str, owner: str | None) -> SessionRecord | None:
        with self._lock:
            session_id = self._names.get((owner, display_name))
            return self._sessions[session_id] if session_id is not None else None

    def list_sessions(
        self, owner: str | None, limit: int | None = None, offset: int = 0
    ) -> list[SessionRecord]:
        with self._lock:
            owned = [s for s in self._sessions.values() if s.owner == owner]
        return owned[offset : None if limit is None else offset + limit]

    def list_session_names(self, owner: str | None) -> list[tuple[str, str]]:
        with self._lock:
            return [(s.id, s.display_name) for s in self._sessions.values() if s.owner == owner]

    def session_names_json(self, owner: str | None) -> bytes:
        names = self.list_session_names(owner)
        return orjson.dumps([{"id": id_, "display_name": name} for id_, name in names])

    def count_sessions(self, owner: str | None) -> int:
        with self._lock:
            return sum(1 for s in self._sessions.values() if s.owner == owner)

    def list_all_sessions(self) -> list[SessionRecord]:
        with self._lock:
            return list(self._sessions.values())

    def rename_session(self, session_id: str, display_name: str) -> SessionRecord:
        with self._lock:
            current = self._require_session(session_id)
            self._check_session_name(display_name, current.owner, session_id)
            renamed = SessionRecord(
                id=current.id,
                display_name=display_name,
                created_at=current.created_at,
                owner=current.owner,
            )
            self._sessions[session_id] = renamed
            del self._names[(current.owner, current.display_name)]
            del self._name_keys[(current.owner, name_key(current.display_name))]
            self._names[(renamed.owner, display_name)] = session_id
            self._name_keys[(renamed.owner, name_key(display_name))] = session_id
            return renamed

    def delete_session(self, session_id: str) -> None:
        with self._lock:
            self._require_session(session_id)
            for scenario_id in list(self._by_session.get(session_id, {})):
                self._drop_scenario(scenario_id)
            record = self._sessions.pop(session_id)
            del self._names[(record.owner, record.display_name)]
            del self._name_keys[(record.owner, name_key(record.display_name))]
            self._datasets.pop(session_id, None)
            self._blobs.pop(session_id, None)
            self._dataset_keys.pop(session_id, None)
            self._by_session.pop(session_id, None)
            self._processing_sessions.pop(session_id, None)
            self._experiments.forget_session(session_id)
            self._baselines.pop(session_id, None)

    def _require_session(self, session_id: str) -> SessionRecord:
        record = self._sessions.get(session_id)
        if record is None:
            raise NotFoundError(f"session {session_id!r} not found")
        return record

    # -- datasets ------------------------------------------------------------
    def put_dataset(
        self,
        session_id: str,
        key: str,
        data: DataSource,
        *,
        replace: bool = False,
        creator: str | None = None,
        messages: list[dict[str, Any]] | None = None,
        keep: int = DEFAULT_VERSIONS_KEPT,
        digest: str | None = None,
    ) -> DatasetVersion:
        digest = digest or content_digest(data)
        with self._lock:
            self._require_session(session_id)
            datasets = self._datasets[session_id]
            versions = datasets.get(key)
            if versions and not replace:
                raise dataset_taken(key)
            keys = self._dataset_keys[session_id]
            existing = keys.get(name_key(key), key)
            if existing != key:
                raise dataset_taken(key, existing)
            if versions and versions[-1].digest == digest:
                return versions[-1]
            version = as_version(key, (versions[-1].version if versions else 0) + 1, digest, data)
            version = dataclasses.replace(version, creator=creator, messages=list(messages or []))
            self._blobs[session_id].setdefault(digest, data)
            # A new version lists its key last, as a replacement always did.
            datasets.pop(key, None)
            datasets[key] = [*(versions or []), version]
            keys[name_key(key)] = key
            self._prune(session_id, key, keep)
            return version

    def _prune(self, session_id: str, key: str, keep: int) -> None:
        versions = self._datasets[session_id][key]
        drop = versions_to_drop([v.version for v in versions], self._used(session_id, key), keep)
        if drop:
            self._datasets[session_id][key] = [v for v in versions if v.version not in drop]
            self._drop_unreferenced_blobs(session_id)

    def _drop_unreferenced_blobs(self, session_id: str) -> None:
        referenced = {v.digest for vs in self._datasets[session_id].values() for v in vs}
        blobs = self._blobs[session_id]
        for digest in [d for d in blobs if d not in referenced]:
            del blobs[digest]

    def _used(self, session_id: str, key: str) -> set[int]:
        versions = self._datasets.get(session_id, {}).get(key) or []
        pins = [
            self._scenarios[i].dataset_version
            for i in self._by_session.get(session_id, {})
            if self._scenarios[i].dataset_key == key
        ]
        return used_versions(pins, versions[-1].version if versions else None)

    def dataset_version(
        self, session_id: str, key: str, version: int | None = None
    ) -> DatasetVersion:
        versions = self._datasets.get(session_id, {}).get(key)
        if not versions:
            raise NotFoundError(f"dataset {key!r} not found")
        if version is None:
            return versions[-1]
        for found in versions:
            if found.version == version:
                return found
        raise NotFoundError(f"dataset {key!r} has no version {version}")

    def get_dataset(self, session_id: str, key: str, version: int | None = None) -> DataSource:
        with self._lock:
            found = self.dataset_version(session_id, key, version)
            data = self._blobs[session_id][found.digest]
        return as_stored(data, key, found)

    def list_dataset_versions(self, session_id: str, key: str) -> list[DatasetVersion]:
        with self._lock:
            self.dataset_version(session_id, key)
            versions = self._datasets[session_id][key]
            latest = versions[-1].version
            users: dict[int, list[str]] = {}
            for i in self._by_session.get(session_id, {}):
                record = self._scenarios[i]
                if record.dataset_key == key:
                    pin = record.dataset_version if record.dataset_version is not None else latest
                    users.setdefault(pin, []).append(record.id)
            return [
                dataclasses.replace(v, scenario_ids=users.get(v.version, []))
                for v in reversed(versions)
            ]

    def list_datasets(self, session_id: str) -> list[str]:
        with self._lock:
            return list(self._datasets.get(session_id, {}))

    def delete_dataset(self, session_id: str, key: str) -> DatasetDeletion:
        with self._lock:
            self.dataset_version(session_id, key)
            versions = self._datasets[session_id][key]
            used = self._used(session_id, key)
            deleted = [v.version for v in versions if v.version not in used]
            if not deleted:
                users = sorted(
                    self._scenarios[i].tag
                    for i in self._by_session.get(session_id, {})
                    if self._scenarios[i].dataset_key == key
                )
                raise ConflictError(
                    f"dataset {key!r} is used by scenario(s) {', '.join(users)}; delete them first"
                )
            remaining = [v for v in versions if v.version in used]
            if remaining:
                self._datasets[session_id][key] = remaining
            else:
                del self._datasets[session_id][key]
                self._dataset_keys[session_id].pop(name_key(key), None)
            self._drop_unreferenced_blobs(session_id)
            return DatasetDeletion(key, deleted, [v.version for v in remaining])

    # -- scenarios -----------------------------------------------------------
    def add_scenario(self, record: ScenarioRecord) -> None:
        with self._lock:
            self._require_session(record.session_id)
            # Checked under the lock `delete_dataset` takes: a scenario never refers
            # to a missing dataset version.
            self.dataset_version(record.session_id, record.dataset_key, record.dataset_version)
            ids = self._by_session[record.session_id]
            wanted = name_key(record.tag)
            for other in ids:
                if name_key(self._scenarios[other].tag) == wanted:
                    raise tag_taken(record.tag, self._scenarios[other].tag)
            self._scenarios[record.id] = record
            ids[record.id] = None
            self._index(record)

    def get_scenario(self, session_id: str, scenario_id: str) -> ScenarioRecord | None:
        record = self._scenarios.get(scenario_id)
        if record is None or record.session_id != session_id:
            return None
        return record

    def get_scenario_by_id(self, scenario_id: str) -> ScenarioRecord | None:
        return self._scenarios.get(scenario_id)

    async def get_scenario_progress_async(self, scenario_id: str) -> ScenarioProgress | None:
        return self.get_scenario_progress(scenario_id)

    def get_scenario_progress(self, scenario_id: str) -> ScenarioProgress | None:
        record = self._scenarios.get(scenario_id)
        session = self._sessions.get(record.session_id) if record is not None else None
        if record is None or session is None:
            return None
        return ScenarioProgress(
            record.id,
            record.tag,
            record.status,
            record.progress,
            session.id,
            session.display_name,
            session.owner,
        )

    def list_scenarios(self, session_id: str) -> list[ScenarioRecord]:
        with self._lock:
            return [self._scenarios[i] for i in self._by_session.get(session_id, {})]

    def list_scenario_summaries(self, session_id: str) -> list[ScenarioRecord]:
        # In memory, the full records cost nothing more to hand out.
        return self.list_scenarios(session_id)

    def delete_scenario(self, session_id: str, scenario_id: str) -> None:
        with self._lock:
            found = self.get_scenario(session_id, scenario_id)
            if found is None:
                raise NotFoundError(f"scenario {scenario_id!r} not found")
            if self._baselines.get(session_id) == scenario_id:
                raise baseline_pinned(found.tag, scenario_id)
            self._drop_scenario(scenario_id)

    # -- the pinned baseline ---------------------------------------------------
    def set_baseline(self, session_id: str, scenario_id: str | None) -> None:
        with self._lock:
            self._require_session(session_id)
            if scenario_id is None:
                self._baselines.pop(session_id, None)
                return
            if self.get_scenario(session_id, scenario_id) is None:
                raise NotFoundError(f"scenario {scenario_id!r} not found")
            self._baselines[session_id] = scenario_id

    def get_baseline(self, session_id: str) -> str | None:
        return self._baselines.get(session_id)

    def _drop_scenario(self, scenario_id: str) -> None:
        self._result_tables.pop(scenario_id, None)
        record = self._scenarios.pop(scenario_id)
        self._by_session.get(record.session_id, {}).pop(scenario_id, None)
        self._queued.pop(scenario_id, None)
        if self._processing_sessions.get(record.session_id) == scenario_id:
            del self._processing_sessions[record.session_id]

    def _index(self, record: ScenarioRecord) -> None:
        """Keep the queue and the processing index in step with `record`."""
        if record.status is ScenarioStatus.QUEUED:
            self._queued[record.id] = None
        else:
            self._queued.pop(record.id, None)
        if record.status is ScenarioStatus.PROCESSING:
            self._processing_sessions[record.session_id] = record.id
        elif self._processing_sessions.get(record.session_id) == record.id:
            del self._processing_sessions[record.session_id]

    def _replace(self, record: ScenarioRecord, changes: dict[str, Any]) -> ScenarioRecord:
        updated = scenario_changes(record, changes)
        self._scenarios[record.id] = updated
        if updated.status is not record.status:
            self._index(updated)
        return updated

    def put_result_tables(self, scenario_id: str, tables: DataSource | None) -> None:
        with self._lock:
            if tables is None:
                self._result_tables.pop(scenario_id, None)
            elif scenario_id in self._scenarios:
                self._result_tables[scenario_id] = tables

    def get_result_tables(self, scenario_id: str) -> DataSource | None:
        return self._result_tables.get(scenario_id)

    def apply_transition(self, scenario_id: str, transition: Transition) -> ScenarioRecord | None:
        with self._lock:
            record = self._scenarios.get(scenario_id)
            if record is None or record.status not in transition.source:
                return None
            if transition.unless_cancel_requested and record.cancel_requested:
                return None
            return self._apply(record, transition)

    def _apply(self, record: ScenarioRecord, transition: Transition) -> ScenarioRecord:
        changes = transition.changes
        if transition.stamped:
            now = utcnow()
            changes = changes | dict.fromkeys(transition.stamped, now)
        if transition.drops_results:
            self._result_tables.pop(record.id, None)
        return self._replace(record, changes)

    def claim_next(self, transition: Transition) -> ScenarioRecord | None:
        with self._lock:
            for scenario_id in self._queued:
                record = self._scenarios[scenario_id]
                if record.session_id in self._processing_sessions:
                    continue
                return self._apply(record, transition)
        return None

    def update_progress(
        self, scenario_id: str, progress: float, message: str | None
    ) -> ScenarioRecord | None:
        with self._lock:
            record = self._scenarios.get(scenario_id)
            if record is None or record.status is not ScenarioStatus.PROCESSING:
                return None
            return self._replace(record, {"progress": progress, "progress_message": message})

    def request_cancel(self, scenario_id: str) -> bool:
        with self._lock:
            record = self._scenarios.get(scenario_id)
            if record is None or record.status is not ScenarioStatus.PROCESSING:
                return False
            self._replace(record, {"cancel_requested": True})
            return True

    def renew_leases(self, owner: str, lease_until: datetime) -> list[ScenarioRecord]:
        with self._lock:
            renewed = []
            for scenario_id in list(self._processing_sessions.values()):
                record = self._scenarios[scenario_id]
                if record.lease_owner == owner:
                    record = record.copy(lease_expires_at=lease_until)
                    self._scenarios[scenario_id] = record
                    renewed.append(record)
            return renewed

    def expired_runs(self, now: datetime) -> list[ScenarioRecord]:
        with self._lock:
            records = [self._scenarios[i] for i in self._processing_sessions.values()]
        return [r for r in records if r.lease_expires_at is not None and r.lease_expires_at < now]

    def runs_held_by(self, owners: Iterable[str]) -> list[ScenarioRecord]:
        wanted = set(owners)
        with self._lock:
            records = [self._scenarios[i] for i in self._processing_sessions.values()]
        return [r for r in records if r.lease_owner in wanted]

    def active_owners(self) -> list[str]:
        with self._lock:
            owners = {self._scenarios[i].lease_owner for i in self._processing_sessions.values()}
        return sorted(o for o in owners if o is not None)

    def count_by_status(self, session_id: str | None = None) -> dict[ScenarioStatus, int]:
        counts = dict.fromkeys(ScenarioStatus, 0)
        with self._lock:
            for record in self._scenarios.values():
                if session_id is None or record.session_id == session_id:
                    counts[record.status] += 1
        return counts

    def oldest_queued_at(self) -> datetime | None:
        with self._lock:
            times = [
                r.queued_at
                for r in self._scenarios.values()
                if r.status is ScenarioStatus.QUEUED and r.queued_at is not None
            ]
        return min(times, default=None)

    def count_scenarios(self, session_id: str) -> int:
        with self._lock:
            return len(self._by_session.get(session_id, {}))

    # -- the change feed -------------------------------------------------------
    def append_change(
        self, session_id: str, kind: str, subject: str, payload: dict[str, Any]
    ) -> int:
        with self._changes_lock:
            self._last_seq += 1
            self._changes.append(
                Change(self._last_seq, session_id, kind, subject, payload, utcnow())
            )
            return self._last_seq

    def read_changes(self, after: int, limit: int, session_id: str | None = None) -> list[Change]:
        with self._changes_lock:
            if not self._changes or self._changes[-1].seq <= after:
                return []
            # Numbered without gaps: the first wanted is at a known place.
            start = max(0, after + 1 - self._changes[0].seq)
            found: list[Change] = []
            for change in itertools.islice(self._changes, start, None):
                if session_id is None or change.session_id == session_id:
                    found.append(change)
                    if len(found) >= limit:
                        break
            return found

    def change_bounds(self) -> tuple[int, int]:
        with self._changes_lock:
            if not self._changes:
                return (0, 0)
            return (self._changes[0].seq, self._changes[-1].seq)

    def close(self) -> None:
        """Nothing to release."""
