"""Where studies are kept: `StudyBook` in each store (`store.studies`); the memory
store's here, the SQL store's in `stores/sql/studies.py`.

A study record holds its request (base, space, objectives, constraints, sampler,
budget) and the driver's lease; its trials are rows of their own (`TrialRecord`),
numbered from 0 and unique per study, each at most one scenario. These tables are the
study's only persistent state: the driver rebuilds Optuna's (in memory) from them.
"""

from __future__ import annotations

import builtins
import dataclasses
from datetime import datetime
from typing import Any, Protocol

import orjson

from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.session_records import MemorySessionRecords

#: Study states: `running` until its budget is spent or it is stopped.
RUNNING, COMPLETE, STOPPED = "running", "complete", "stopped"
#: Trial states (a failed or cancelled scenario's trial is `failed`, Optuna's FAIL; a
#: trial the study's pruner stopped is `pruned`, Optuna's PRUNED).
T_RUNNING, T_COMPLETE, T_FAILED, T_PRUNED = "running", "complete", "failed", "pruned"
#: Trial sources: asked of the sampler, a listed warm-start point, or a warm-start
#: scenario told as it is (not part of the trial budget).
ASKED, POINT, WARM = "asked", "point", "warm"


@dataclasses.dataclass(frozen=True, slots=True)
class StudyRecord:
    id: str
    session_id: str
    name: str
    created_at: datetime
    #: The request as resolved: base, space, objectives, constraints, sampler, seed,
    #: n_trials, timeout_s, parallel, points (listed warm-start points not yet run).
    spec: dict[str, Any]
    state: str = RUNNING
    stop_requested: bool = False
    #: How it ended: `trials`, `time` or `stop` (None while running).
    ended_by: str | None = None
    #: The sampler's study-level state (Optuna's study system attributes, e.g. a QMC
    #: sequence's position), saved after each ask and restored on rebuild.
    sampler_state: dict[str, Any] = dataclasses.field(default_factory=dict)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None

    def body(self) -> str:
        fields = {"spec": self.spec, "ended_by": self.ended_by, "sampler_state": self.sampler_state}
        return orjson.dumps(fields).decode()


@dataclasses.dataclass(frozen=True, slots=True)
class TrialRecord:
    study_id: str
    number: int
    state: str
    source: str
    #: `{space key: value}` (`data.<name>` for a data parameter).
    params: dict[str, Any]
    scenario_id: str | None = None
    #: Objective values in objective order (complete trials).
    values: list[float] | None = None
    #: Constraint values (<= 0 is feasible), in constraint order.
    constraints: list[float] | None = None
    #: Optuna's trial system attributes at ask time (replayed on rebuild).
    system_attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Why it failed, or which trial's scenario it was told from when that scenario
    #: already was another trial's (`same_as`).
    note: str | None = None
    #: The `[step, value]` intermediate values of its run the driver has seen (and
    #: told the pruner), kept for rebuilding the in-memory study: a pruner compares a
    #: running trial with the finished trials' values at the same step.
    intermediate: list[list[float]] = dataclasses.field(default_factory=list)

    def body(self) -> str:
        fields = ("values", "constraints", "system_attrs", "note", "intermediate")
        return orjson.dumps({name: getattr(self, name) for name in fields}).decode()


#: How a trial told from another trial's scenario notes it.
SAME_RUN = "same run as trial "


def same_run_note(number: int) -> str:
    """The note of a trial told from trial `number`'s scenario (a scenario is one
    trial's, so the second trial with its fingerprint stores none)."""
    return f"{SAME_RUN}{number}"


def same_run_as(note: str | None) -> int | None:
    """The trial whose scenario a trial was told from, read back from its note."""
    if note is None or not note.startswith(SAME_RUN) or not note[len(SAME_RUN) :].isdigit():
        return None
    return int(note[len(SAME_RUN) :])


class StudyBook(Protocol):
    def add(self, record: StudyRecord, trials: list[TrialRecord]) -> None:
        """Add a study with its first trials (warm start); `ConflictError` if the
        name is taken in the session."""

    def get(self, session_id: str, study_id: str) -> StudyRecord | None: ...

    def list(self, session_id: str) -> list[StudyRecord]:
        """Oldest first."""

    def running(self) -> builtins.list[StudyRecord]:
        """Every session's running studies (for the drivers)."""

    def delete(self, session_id: str, study_id: str) -> None:
        """With its trials; `NotFoundError` if absent."""

    def request_stop(self, session_id: str, study_id: str) -> None:
        """`NotFoundError` if absent."""

    def claim(self, study_id: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take or renew the driver's lease: True when the study is running and its
        lease is free, expired or `owner`'s already."""

    def release(self, study_id: str, owner: str) -> None: ...

    def save(self, record: StudyRecord, owner: str) -> bool:
        """Write state, ended_by and sampler_state while `owner` holds the lease."""

    def trials(self, study_id: str) -> builtins.list[TrialRecord]:
        """By number."""

    def add_trial(self, trial: TrialRecord) -> None:
        """`ConflictError` when its number or scenario is taken in the study."""

    def update_trial(self, trial: TrialRecord) -> None:
        """Store state, scenario, values and body of trial (study_id, number)."""


def name_taken(name: str) -> ConflictError:
    return ConflictError(f"a study named {name!r} exists in this session")


def missing(study_id: str) -> NotFoundError:
    return NotFoundError(f"study {study_id!r} not found")


def trial_taken(trial: TrialRecord) -> ConflictError:
    return ConflictError(
        f"study {trial.study_id!r}: trial {trial.number} or scenario {trial.scenario_id!r} is taken"
    )


def lease_free(record: StudyRecord, owner: str, now: datetime) -> bool:
    return (
        record.lease_owner is None
        or record.lease_owner == owner
        or record.lease_expires_at is None
        or record.lease_expires_at < now
    )


class MemoryStudyBook(MemorySessionRecords[StudyRecord]):
    def __init__(self) -> None:
        super().__init__(name_taken, missing)
        self._trials: dict[str, dict[int, TrialRecord]] = {}

    def add(self, record: StudyRecord, trials: builtins.list[TrialRecord]) -> None:
        with self._lock:
            self._add(record)
            self._trials[record.id] = {}
        for trial in trials:
            self.add_trial(trial)

    def running(self) -> builtins.list[StudyRecord]:
        with self._lock:
            return [r for r in self._records.values() if r.state == RUNNING]

    def delete(self, session_id: str, study_id: str) -> None:
        with self._lock:
            self._mine(session_id, study_id)
            del self._records[study_id]
            del self._trials[study_id]

    def request_stop(self, session_id: str, study_id: str) -> None:
        with self._lock:
            found = self._mine(session_id, study_id)
            self._records[study_id] = dataclasses.replace(found, stop_requested=True)

    def claim(self, study_id: str, owner: str, now: datetime, until: datetime) -> bool:
        with self._lock:
            found = self._records.get(study_id)
            if found is None or found.state != RUNNING or not lease_free(found, owner, now):
                return False
            self._records[study_id] = dataclasses.replace(
                found, lease_owner=owner, lease_expires_at=until
            )
            return True

    def release(self, study_id: str, owner: str) -> None:
        with self._lock:
            found = self._records.get(study_id)
            if found is not None and found.lease_owner == owner:
                self._records[study_id] = dataclasses.replace(
                    found, lease_owner=None, lease_expires_at=None
                )

    def save(self, record: StudyRecord, owner: str) -> bool:
        with self._lock:
            found = self._records.get(record.id)
            if found is None or found.lease_owner != owner:
                return False
            self._records[record.id] = dataclasses.replace(
                found,
                state=record.state,
                ended_by=record.ended_by,
                sampler_state=record.sampler_state,
            )
            return True

    def trials(self, study_id: str) -> builtins.list[TrialRecord]:
        with self._lock:
            return sorted(self._trials.get(study_id, {}).values(), key=lambda t: t.number)

    def add_trial(self, trial: TrialRecord) -> None:
        with self._lock:
            held = self._trials.get(trial.study_id)
            if held is None:
                raise missing(trial.study_id)
            if trial.number in held or (
                trial.scenario_id is not None
                and any(t.scenario_id == trial.scenario_id for t in held.values())
            ):
                raise trial_taken(trial)
            held[trial.number] = trial

    def update_trial(self, trial: TrialRecord) -> None:
        with self._lock:
            held = self._trials.get(trial.study_id)
            if held is None or trial.number not in held:
                raise missing(trial.study_id)
            if trial.scenario_id is not None and any(
                t.scenario_id == trial.scenario_id and t.number != trial.number
                for t in held.values()
            ):
                raise trial_taken(trial)
            held[trial.number] = trial

    def forget_session(self, session_id: str) -> None:
        with self._lock:
            for study_id in self._forget(session_id):
                self._trials.pop(study_id, None)


def study_from_row(m: Any) -> StudyRecord:
    body = orjson.loads(m["body"])
    return StudyRecord(
        id=m["id"],
        session_id=m["session_id"],
        name=m["name"],
        created_at=m["created_at"],
        state=m["state"],
        stop_requested=bool(m["stop_requested"]),
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
        **body,
    )


def trial_from_row(m: Any) -> TrialRecord:
    body = orjson.loads(m["body"])
    return TrialRecord(
        study_id=m["study_id"],
        number=m["number"],
        state=m["state"],
        source=m["source"],
        params=orjson.loads(m["params"]),
        scenario_id=m["scenario_id"],
        **body,
    )
