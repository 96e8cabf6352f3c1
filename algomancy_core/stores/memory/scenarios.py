"""Scenarios in memory: records, result tables and the pinned baseline."""

from __future__ import annotations

from collections.abc import Sequence

from algomancy_core.decisions import baseline_pinned
from algomancy_core.errors import NotFoundError
from algomancy_core.names import name_key, scenarios_full, tag_taken
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus
from algomancy_core.stores.base import (
    LatestMoved,
    ScenarioProgress,
)
from algomancy_core.stores.memory.state import MemoryState
from algomancy_data import DataSource


class MemoryScenarios(MemoryState):
    """Scenario records (immutable snapshots, replaced on write)."""

    # -- scenarios -----------------------------------------------------------
    def add_scenario(
        self, record: ScenarioRecord, *, below: int | None = None, latest: bool = False
    ) -> None:
        with self._lock:
            self._require_session(record.session_id)
            if below is not None and self.count_scenarios(record.session_id) >= below:
                raise scenarios_full(below)
            # Checked under the lock `delete_dataset` takes: a scenario never refers
            # to a missing dataset version. With `latest`, a pinned version that is
            # not the latest (or is gone) is `LatestMoved`, as on SQL.
            if latest:
                newest = self.dataset_version(record.session_id, record.dataset_key)
                if (newest.version, newest.digest) != (
                    record.dataset_version,
                    record.dataset_digest,
                ):
                    raise LatestMoved
            else:
                self.dataset_version(record.session_id, record.dataset_key, record.dataset_version)
            other = self._tag_keys.get(record.session_id, {}).get(name_key(record.tag))
            if other is not None:
                raise tag_taken(record.tag, self._scenarios[other].tag)
            self._insert(record)

    def add_scenarios(self, records: Sequence[ScenarioRecord]) -> None:
        with self._lock:
            # Every check first, then every write: all or nothing.
            fresh: dict[tuple[str, str], ScenarioRecord] = {}
            for record in records:
                self._require_session(record.session_id)
                self.dataset_version(record.session_id, record.dataset_key, record.dataset_version)
                wanted = name_key(record.tag)
                other = self._tag_keys.get(record.session_id, {}).get(wanted)
                if other is not None:
                    raise tag_taken(record.tag, self._scenarios[other].tag)
                earlier = fresh.setdefault((record.session_id, wanted), record)
                if earlier is not record:
                    raise tag_taken(record.tag, earlier.tag)
            for record in records:
                self._insert(record)

    def _insert(self, record: ScenarioRecord) -> None:
        """Write a checked `record` (under the lock): by id, in its session's order,
        by tag, and in the run queue and processing index."""
        self._scenarios[record.id] = record
        self._by_session[record.session_id][record.id] = None
        self._tag_keys.setdefault(record.session_id, {})[name_key(record.tag)] = record.id
        self._index(record)

    def get_scenario_by_id(self, scenario_id: str) -> ScenarioRecord | None:
        return self._scenarios.get(scenario_id)

    def get_scenario(self, session_id: str, scenario_id: str) -> ScenarioRecord | None:
        record = self._scenarios.get(scenario_id)
        if record is None or record.session_id != session_id:
            return None
        return record

    async def get_scenario_progress_async(self, scenario_id: str) -> ScenarioProgress | None:
        # Two dictionary lookups: answered at once, never awaited.
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

    def page_scenarios(
        self,
        session_id: str,
        fingerprint: str | None,
        limit: int | None,
        offset: int,
        *,
        summaries: bool = False,
    ) -> list[ScenarioRecord]:
        records = self.list_scenarios(session_id)
        if fingerprint is not None:
            records = [r for r in records if r.fingerprint == fingerprint]
        return records[offset : None if limit is None else offset + limit]

    def page_scenario_versions(
        self, session_id: str, fingerprint: str | None, limit: int | None, offset: int
    ) -> list[tuple[str, int]]:
        page = self.page_scenarios(session_id, fingerprint, limit, offset)
        return [(r.id, r.version) for r in page]

    def change_stamp(self) -> object | None:
        # In this process: `page_scenario_versions` reads dictionaries, cheap enough.
        return None

    def get_scenarios(
        self, session_id: str, ids: Sequence[str], *, summaries: bool = False
    ) -> list[ScenarioRecord]:
        with self._lock:
            found = (self._scenarios.get(i) for i in ids)
            return [r for r in found if r is not None and r.session_id == session_id]

    def scenario_statuses(self, session_id: str, ids: Sequence[str]) -> dict[str, ScenarioStatus]:
        return {r.id: r.status for r in self.get_scenarios(session_id, ids)}

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

    def get_scenario_and_baseline(
        self, session_id: str, scenario_id: str
    ) -> tuple[ScenarioRecord | None, str | None]:
        with self._lock:
            record = self.get_scenario(session_id, scenario_id)
            return record, None if record is None else self._baselines.get(session_id)

    def put_result_tables(self, scenario_id: str, tables: DataSource | None) -> None:
        with self._lock:
            if tables is None:
                self._result_tables.pop(scenario_id, None)
            elif scenario_id in self._scenarios:
                self._result_tables[scenario_id] = tables

    def get_result_tables(self, scenario_id: str) -> DataSource | None:
        return self._result_tables.get(scenario_id)

    def count_scenarios(self, session_id: str) -> int:
        with self._lock:
            return len(self._by_session.get(session_id, {}))
