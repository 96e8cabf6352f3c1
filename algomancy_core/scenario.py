"""Scenario records and the state machine that moves them.

`created → queued → processing → complete | failed`; `complete` and `failed` are
terminal, and `run` on a terminal scenario re-enqueues it. The transition table and
the field changes each transition implies live here and nowhere else; stores apply
them atomically (`Store.apply_transition`, `Store.claim_next`). Applying a planned
transition, its cleanup and its announcement is `algomancy_core.lifecycle`'s job.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from algomancy_core.errors import InvalidTransitionError

if TYPE_CHECKING:
    from algomancy_data import DataSource


class ScenarioStatus(StrEnum):
    """The states of a scenario; the wire values are lower case."""

    CREATED = "created"
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETE = "complete"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_active(self) -> bool:
        """Queued or processing: a run is pending or under way."""
        return self in ACTIVE


S = ScenarioStatus

#: The statuses a run ends in.
TERMINAL: frozenset[ScenarioStatus] = frozenset({S.COMPLETE, S.FAILED})
#: Queued or processing: a run is pending or under way.
ACTIVE: frozenset[ScenarioStatus] = frozenset({S.QUEUED, S.PROCESSING})
#: The statuses a run starts from: a (re-)run is queued; a new or reset scenario is created.
RUN_STARTS: frozenset[ScenarioStatus] = frozenset({S.QUEUED, S.CREATED})
#: The wire values, in the order of the state machine.
STATUS_VALUES: tuple[str, ...] = tuple(status.value for status in ScenarioStatus)

#: Which state each state may move to.
TRANSITIONS: dict[ScenarioStatus, frozenset[ScenarioStatus]] = {
    S.CREATED: frozenset({S.QUEUED}),
    S.QUEUED: frozenset({S.PROCESSING, S.FAILED}),
    S.PROCESSING: frozenset({S.COMPLETE, S.FAILED}),
    # Run again (queued), or reset: back to created, the run's outcome cleared.
    S.COMPLETE: frozenset({S.QUEUED, S.CREATED}),
    S.FAILED: frozenset({S.QUEUED, S.CREATED}),
}

CANCELLED = "cancelled"
INTERRUPTED = "interrupted: the server running this scenario stopped before it finished"


def leads_to(source: ScenarioStatus, target: ScenarioStatus) -> bool:
    """Whether the state machine lets a scenario in `source` move to `target`."""
    return target in TRANSITIONS[source]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclasses.dataclass(frozen=True, slots=True)
class ScenarioRecord:
    """A scenario as stored: what to run, and the state of its latest run.

    Frozen: a record handed out is a snapshot; changes go through the store."""

    id: str
    session_id: str
    tag: str
    dataset_key: str
    algorithm: str
    parameters: dict[str, Any]
    status: ScenarioStatus = S.CREATED
    progress: float = 0.0
    progress_message: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    kpis: dict[str, float | None] = dataclasses.field(default_factory=dict)
    created_at: datetime = dataclasses.field(default_factory=utcnow)
    queued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    #: Bumped by every write; lets pollers and event streams see that something changed.
    version: int = 0
    #: Who runs it and until when that claim holds without renewal.
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    cancel_requested: bool = False
    #: Per-run limit in seconds, or None.
    timeout: float | None = None
    #: Values of the dataset's declared data parameters (JSON), given to the run.
    data_parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: The dataset version it runs on, and that version's content digest; None for a
    #: scenario from before versions whose data could not be proven (unknown lineage).
    dataset_version: int | None = None
    dataset_digest: str | None = None
    #: The run's random seed (`ctx.seed`).
    seed: int | None = None
    #: What its latest run was made of (`algomancy_core.lineage`), and its fingerprint.
    lineage: dict[str, Any] | None = None
    fingerprint: str | None = None
    #: The trace context (W3C `traceparent`, ...) of the request that queued its
    #: run, when the server traces: whichever process claims the run continues it.
    trace_context: dict[str, str] | None = None
    #: The batch the scenario was made for (`"experiment:<id>"`), None for the
    #: session's own: a session runs one of its own at a time, batch scenarios run
    #: in parallel up to the executor's capacity (see `Store.claim_next`).
    batch: str | None = None
    #: True when its latest run was stopped as not promising (`request_prune`): it
    #: fails as cancelled, its `error` saying at which step.
    pruned: bool = False

    def copy(self, **changes: Any) -> ScenarioRecord:
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True, slots=True)
class Transition:
    """A checked move: the states it may start from and the fields it writes.

    `stamped` names fields the store sets to the time the write wins (a claim may
    wait for the lock). `drops_results` says the move discards the result tables of
    the previous run, in the same atomic write. `unless_cancel_requested` says the
    move does not apply to a scenario whose cancellation was requested (checked in
    the same atomic write): a run that ends after a cancel was accepted is failed
    as cancelled, never completed. `tables` are the result tables a completion
    keeps, written in the same atomic write as the move (none when the move does
    not apply): a complete scenario always has its tables, a refused one never.
    """

    source: frozenset[ScenarioStatus]
    target: ScenarioStatus
    changes: dict[str, Any]
    stamped: frozenset[str] = frozenset()
    drops_results: bool = False
    unless_cancel_requested: bool = False
    drops_reports: bool = False
    tables: DataSource | None = None


def plan_transition(
    target: ScenarioStatus,
    *,
    source: ScenarioStatus | frozenset[ScenarioStatus] | None = None,
    now: datetime | None = None,
    tables: DataSource | None = None,
    **fields: Any,
) -> Transition:
    """The one place that decides what moving a scenario to `target` writes.

    `source` narrows the states the move may start from (default: every state that
    leads to `target`). `fields` add run outcomes (result, kpis, error, lease...);
    `tables` the result tables of a completion (kept in the same write).
    """
    if tables is not None and target is not S.COMPLETE:
        raise ValueError(f"only a move to complete keeps result tables, not one to {target}")
    now = now or utcnow()
    allowed = frozenset(s for s, targets in TRANSITIONS.items() if target in targets)
    if source is not None:
        wanted = frozenset({source}) if isinstance(source, ScenarioStatus) else source
        illegal = wanted - allowed
        if illegal:
            names = ", ".join(sorted(illegal))
            raise InvalidTransitionError(f"no transition from {names} to {target}")
        allowed = wanted
    changes: dict[str, Any] = {"status": target}
    if target in RUN_STARTS:
        changes |= {
            "progress": 0.0,
            "progress_message": None,
            "error": None,
            "result": None,
            "kpis": {},
            "queued_at": now if target is S.QUEUED else None,
            "started_at": None,
            "finished_at": None,
            "cancel_requested": False,
            "lease_owner": None,
            "lease_expires_at": None,
            "trace_context": None,
            "pruned": False,
        }
    elif target is S.PROCESSING:
        changes |= {"started_at": now, "progress": 0.0, "progress_message": None}
    elif target is S.COMPLETE:
        changes |= {"progress": 1.0, "finished_at": now, "error": None}
        changes |= {"lease_owner": None, "lease_expires_at": None}
    elif target is S.FAILED:
        changes |= {"finished_at": now, "result": None, "lease_owner": None}
        changes |= {"lease_expires_at": None}
    changes |= fields
    return Transition(
        source=allowed,
        target=target,
        changes=changes,
        # A run starts when its claim wins, never before the session's previous run
        # finished: the store writes the time of the write.
        stamped=frozenset({"started_at"}) if target is S.PROCESSING else frozenset(),
        # A new run or a reset: the previous run's tables go with its result (only a
        # run that ended has any: a complete one, or one failed while completing).
        drops_results=target in RUN_STARTS and bool(allowed & TERMINAL),
        # A cancel answered 202 wins over a run that ends meanwhile.
        unless_cancel_requested=target is S.COMPLETE,
        # A new run or a reset starts without the previous run's intermediate values.
        drops_reports=target in RUN_STARTS,
        tables=tables,
    )


def pruned_at(step: int) -> str:
    """The `error` (and last `progress_message`) of a run pruned at `step`."""
    return f"pruned at step {step}"


def stop_fields(record: ScenarioRecord | None) -> dict[str, Any]:
    """What a run stopped on request writes as it fails: `error` `cancelled`, or for
    a pruned run (`record.pruned`) the reason written with the request, also as its
    last `progress_message`."""
    if record is not None and record.pruned and record.error:
        return {"error": record.error, "progress_message": record.error, "pruned": True}
    return {"error": CANCELLED}


def plan_claim(owner: str, lease_until: datetime, now: datetime | None = None) -> Transition:
    """`queued → processing`, leased to `owner` until `lease_until`."""
    return plan_transition(
        S.PROCESSING, source=S.QUEUED, now=now, lease_owner=owner, lease_expires_at=lease_until
    )


def plan_copy(record: ScenarioRecord, scenario_id: str, session_id: str) -> ScenarioRecord:
    """`record` as a new scenario of another session: finished runs keep their
    result, a queued or running one starts over as `created` (nothing ran in the copy)."""
    changes: dict[str, Any] = {
        "id": scenario_id,
        "session_id": session_id,
        "lease_owner": None,
        "lease_expires_at": None,
        "cancel_requested": False,
        "version": 0,
        "trace_context": None,
        # The copy is the other session's own: the batch belongs to this session.
        "batch": None,
    }
    if record.status.is_active:
        changes |= {
            "status": S.CREATED,
            "progress": 0.0,
            "progress_message": None,
            "queued_at": None,
            "started_at": None,
            "finished_at": None,
        }
    return record.copy(**changes)
