"""Sessions in memory."""

from __future__ import annotations

from algomancy_core.names import name_key, session_taken
from algomancy_core.stores.base import (
    SessionRecord,
)
from algomancy_core.stores.memory.state import MemoryState


class MemorySessions(MemoryState):
    """Sessions, their names unique per owner (look-alikes are one name)."""

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
            self._tag_keys.pop(session_id, None)
            self._experiments.forget_session(session_id)
            self._studies.forget_session(session_id)
            self._baselines.pop(session_id, None)
