"""The store protocols: where sessions, datasets and scenarios live.

The store is the source of truth. Managers are thin views over it, so that several
processes sharing one SQL store see one state. Every method is safe to call from
several threads at once. Implementations: `MemoryStore` (one process) and
`SQLStore` (SQLite file or PostgreSQL, several processes).

`Store` is composed of one small protocol per aggregate: `SessionStore`,
`DatasetStore`, `ScenarioStore`, `RunQueue` and `ChangeFeed` (experiments have
their own book, `ExperimentBook`). A caller that needs one aggregate can ask for
its protocol alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from algomancy_core.audit import AuditLog
from algomancy_core.changes import Change, ChangeEntry
from algomancy_core.deliveries import DeliveryQueue
from algomancy_core.experiments.book import ExperimentBook
from algomancy_core.reports import Report
from algomancy_core.scenario import ScenarioRecord, ScenarioStatus, Transition
from algomancy_core.studies.book import StudyBook
from algomancy_data import DataSource


@dataclasses.dataclass(frozen=True, slots=True)
class SessionRecord:
    """A session: a workspace of datasets and scenarios."""

    id: str
    display_name: str
    created_at: datetime
    #: The user it belongs to when authentication is on; None otherwise.
    owner: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DatasetVersion:
    """One immutable version of a dataset: its content never changes once stored."""

    key: str
    version: int
    digest: str
    created_at: datetime
    #: Who stored it (the caller's identity; None when authentication is off).
    creator: str | None
    classification: str
    tables: dict[str, int]
    #: The ETL messages that produced it (empty for other ways in).
    messages: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    #: The name the dataset carried when stored (usually its key).
    name: str = ""
    #: Ids of the scenarios pinned to it (filled by `list_dataset_versions`).
    scenario_ids: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class DatasetDeletion:
    """What deleting a dataset did: the versions deleted, and those scenarios keep."""

    key: str
    deleted: list[int]
    remaining: list[int]


#: How many unused versions of a dataset are kept by default (`dataset_versions_kept`).
DEFAULT_VERSIONS_KEPT = 5


class LatestMoved(Exception):
    """`add_scenario(latest=True)`: the record's dataset version is not (or no
    longer) the dataset's latest; nothing was written. The caller reads the latest
    again (`dataset_version`) and makes the record again."""


def versions_to_drop(versions: list[int], used: set[int], keep: int) -> list[int]:
    """Of a dataset's `versions`, those to drop: versions no scenario uses beyond the
    newest `keep` of them. The latest version is always kept."""
    if not versions:
        return []
    latest = max(versions)
    unused = sorted((v for v in versions if v not in used and v != latest), reverse=True)
    # The latest counts as one of the unused kept when no scenario uses it.
    room = max(keep - (0 if latest in used else 1), 0)
    return sorted(unused[room:])


def used_versions(pins: Iterable[int | None], latest: int | None) -> set[int]:
    """The versions scenarios use, from their pins: a scenario of unknown lineage
    (None) runs on the latest version, which it therefore uses."""
    used: set[int] = set()
    for pin in pins:
        if pin is not None:
            used.add(pin)
        elif latest is not None:
            used.add(latest)
    return used


@dataclasses.dataclass(frozen=True, slots=True)
class ScenarioProgress:
    """What a status poll needs of a scenario, with the session it belongs to."""

    id: str
    tag: str
    status: ScenarioStatus
    progress: float
    session_id: str
    session_name: str
    #: The session's owner (None when authentication is off).
    owner: str | None


class SessionStore(Protocol):
    """Sessions: names unique per owner, listed oldest first."""

    def create_session(self, record: SessionRecord) -> None:
        """Add a session; `ConflictError` if its display name is taken for its owner."""

    def get_session(self, session_id: str) -> SessionRecord | None: ...

    def find_session(self, display_name: str, owner: str | None) -> SessionRecord | None: ...

    def list_sessions(
        self, owner: str | None, limit: int | None = None, offset: int = 0
    ) -> list[SessionRecord]:
        """The owner's sessions, oldest first; `limit` of them from `offset` on."""

    def list_session_names(self, owner: str | None) -> list[tuple[str, str]]:
        """`(id, display_name)` of the owner's sessions, oldest first: the whole
        listing of a user with thousands of sessions, without a record per row."""

    def count_sessions(self, owner: str | None) -> int: ...

    def list_all_sessions(self) -> list[SessionRecord]:
        """Every owner's sessions, oldest first (for administrators)."""

    def rename_session(self, session_id: str, display_name: str) -> SessionRecord:
        """`NotFoundError`, or `ConflictError` if the name is taken for the owner."""

    def delete_session(self, session_id: str) -> None:
        """Remove the session with all its datasets and scenarios."""


class DatasetStore(Protocol):
    """Datasets of a session: immutable versions under a key."""

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
        """Store `data` as the first version of `key`, or with `replace` as a new
        version of an existing key (`ConflictError` if `key` exists and not
        `replace`). Content identical to the latest version adds nothing and answers
        that version; identical content is stored once per session. Unused versions
        beyond the newest `keep` are dropped. `digest` is `content_digest(data)` when
        the caller has it."""

    def get_dataset(
        self,
        session_id: str,
        key: str,
        version: int | None = None,
        *,
        found: DatasetVersion | None = None,
    ) -> DataSource:
        """The version (default: the latest); `NotFoundError` if absent. `found`: that
        version's description as the caller just read it (`dataset_version`), which a
        store need not read again."""

    def dataset_version(
        self, session_id: str, key: str, version: int | None = None
    ) -> DatasetVersion:
        """A version's description (default: the latest); `NotFoundError` if absent."""

    def latest_version_seen(self, session_id: str, key: str) -> DatasetVersion:
        """The dataset's latest version as this store last read or wrote it (a read
        when it has not): it may be older than the latest, when another process added
        one since. A create pins it with `add_scenario(..., latest=True)`, which
        refuses it then (`LatestMoved`). `NotFoundError` if absent."""

    def list_dataset_versions(self, session_id: str, key: str) -> list[DatasetVersion]:
        """Every version kept, newest first, with the scenarios pinned to each."""

    def list_datasets(self, session_id: str) -> list[str]:
        """Keys in creation order (a new version moves its key last)."""

    def delete_dataset(self, session_id: str, key: str) -> DatasetDeletion:
        """Delete the versions no scenario uses (the key goes with the last one);
        `NotFoundError` if absent; `ConflictError` if every version is in use."""


class ScenarioStore(Protocol):
    """Scenario records of a session, their result tables and the pinned baseline;
    the status poll's read."""

    def add_scenario(
        self, record: ScenarioRecord, *, below: int | None = None, latest: bool = False
    ) -> None:
        """`ConflictError` if the tag is taken in the session, or with `below` if
        the session holds `below` scenarios already (`names.scenarios_full`, checked
        in the same write); `NotFoundError` if its session, dataset or pinned
        dataset version is missing; with `latest`, `LatestMoved` unless the pinned
        version (and its digest) is the dataset's latest, checked in the same write.
        Serialised with `delete_dataset` and `put_dataset`: no scenario ever refers
        to a missing dataset version."""

    def add_scenarios(self, records: Sequence[ScenarioRecord]) -> None:
        """`add_scenario` of each record, in order, in one transaction: all are
        stored, each with its change in the feed where the store records them
        (`records_scenario_changes`), or none is (the first error as
        `add_scenario` raises it; a tag taken by an earlier record of the batch
        too). An experiment's points (`experiments/queueing.py`)."""

    def get_scenario(self, session_id: str, scenario_id: str) -> ScenarioRecord | None: ...

    def get_scenario_by_id(self, scenario_id: str) -> ScenarioRecord | None:
        """The scenario whatever its session (a run's end, which knows only the id)."""

    def list_scenarios(self, session_id: str) -> list[ScenarioRecord]:
        """Oldest first."""

    def list_scenario_summaries(self, session_id: str) -> list[ScenarioRecord]:
        """As `list_scenarios`, without reading results: `result` may be None even
        for a complete scenario (for listings that do not show it)."""

    def page_scenarios(
        self,
        session_id: str,
        fingerprint: str | None,
        limit: int | None,
        offset: int,
        *,
        summaries: bool = False,
    ) -> list[ScenarioRecord]:
        """One page of `list_scenarios` (with `summaries`, of `list_scenario_summaries`):
        only those with `fingerprint` when given, from `offset` on, `limit` at most."""

    def count_scenarios(self, session_id: str) -> int:
        """How many scenarios the session holds."""

    def page_scenario_versions(
        self, session_id: str, fingerprint: str | None, limit: int | None, offset: int
    ) -> list[tuple[str, int]]:
        """The `(id, version)` of each scenario of that page of `page_scenarios`, in
        its order: a reader that keeps what it made of a version reads only these."""

    def change_stamp(self) -> object | None:
        """A value that differs after any write committed to the store, by any
        process, and costs less than any read; None when the store has none (then
        `page_scenario_versions` tells what changed). A reader that kept what it
        made of the store at one stamp answers it again while the stamp holds (the
        scenario list, `algomancy_api.listing`). Read it before what it vouches for."""

    def get_scenarios(
        self, session_id: str, ids: Sequence[str], *, summaries: bool = False
    ) -> list[ScenarioRecord]:
        """The scenarios of `ids` that the session holds, in no set order (with
        `summaries`, without reading results, as `list_scenario_summaries`)."""

    def scenario_statuses(self, session_id: str, ids: Sequence[str]) -> dict[str, ScenarioStatus]:
        """The status of each scenario of `ids` the session holds, by id: an
        experiment's counts, nothing else of a scenario read."""

    async def get_scenario_progress_async(self, scenario_id: str) -> ScenarioProgress | None:
        """The status-poll view of a scenario and its session, in one read, for a
        caller on an event loop, which it never blocks: the poll route's read. The
        one coroutine of the stores: on
        PostgreSQL it reads with asyncio psycopg, batched (`stores/sql/connections.py`),
        which holds the PostgreSQL poll figure of `python -m benchmarks`
        (PostgreSQL / in memory ≥ 0.5x); the other stores answer at once."""

    def delete_scenario(self, session_id: str, scenario_id: str) -> None: ...

    def set_baseline(self, session_id: str, scenario_id: str | None) -> None:
        """Pin `scenario_id` as the session's baseline (None unpins); `NotFoundError`
        if the session or the scenario (in that session) is missing. While pinned,
        `delete_scenario` refuses it (`decisions.baseline_pinned`, atomically)."""

    def get_baseline(self, session_id: str) -> str | None:
        """The id of the session's pinned baseline scenario, or None."""

    def get_scenario_and_baseline(
        self, session_id: str, scenario_id: str
    ) -> tuple[ScenarioRecord | None, str | None]:
        """`get_scenario` and `get_baseline` in one read (a run request's answer
        says whether its scenario is the baseline); the baseline is None when the
        scenario is not found."""

    def put_result_tables(self, scenario_id: str, tables: DataSource | None) -> None:
        """Keep the tables of a scenario's result (None drops them). A transition
        with `drops_results` drops them too: they belong to the run that made them."""

    def get_result_tables(self, scenario_id: str) -> DataSource | None:
        """The tables of the scenario's latest result, or None."""


class RunQueue(Protocol):
    """Runs: status transitions, claims, progress, cancel flags and leases."""

    def apply_transition(self, scenario_id: str, transition: Transition) -> ScenarioRecord | None:
        """Apply `transition` if the scenario's status is one of its sources.

        Returns the updated record, or None when the scenario is absent or in
        another state (someone else won). Atomic, with what the transition implies:
        its `stamped` fields get the time of the write, `drops_results` drops the
        result tables, and a completion's `tables` are kept as its result tables
        (none kept when it does not apply). Only `algomancy_core.lifecycle` calls it.
        `apply_transitions` of one.
        """

    def apply_transitions(
        self, moves: Sequence[tuple[str, Transition]]
    ) -> list[ScenarioRecord | None]:
        """`apply_transition` of each of `moves` (scenario id, transition), in order,
        in one write (one lock in memory, one transaction in SQL): the record as
        written of each, or None where it did not apply. Quick runs that end together
        are recorded together (`Dispatcher._on_done_many`)."""

    def claim_next(
        self, transition: Transition, *, expected: bool = False
    ) -> ScenarioRecord | None:
        """Apply `transition` (planned by `plan_claim`) to the next scenario to run:
        the oldest queued of a session's own scenarios (`batch` None) whose session
        has none of its own processing; else the oldest queued of the batch with the
        fewest processing, least recently served first (round robin between
        batches). Atomic: two callers never claim the same scenario, nor two of a
        session's own scenarios; batch scenarios run in parallel (the caller
        bounds how many by its capacity). `expected`: the caller knows of a
        scenario queued since its last look (its own process queued it), so a store
        that looks at the queue before a claim, to spare an empty one its write, may
        claim without that look; the answer is the same either way."""

    def claim_many(self, transition: Transition, count: int) -> list[ScenarioRecord]:
        """`claim_next` up to `count` times, in one write, of experiments' points
        only: it stops at the first next that is a session's own scenario (a claim
        ahead of a free worker, in which a session's own scenario must not wait as
        `processing`), or when nothing is queued. The records claimed, in order."""

    def update_progress(
        self, scenario_id: str, progress: float, message: str | None
    ) -> ScenarioRecord | None:
        """Record progress of a processing scenario: the record as written, or None
        (and nothing written) when it is not processing."""

    def request_cancel(self, scenario_id: str, **fields: Any) -> bool:
        """Flag a processing scenario for cancellation by whoever runs it, writing
        `fields` with the flag (a pruned run's `pruned` and `error`); False (nothing
        written) when it is not processing. Once flagged, the scenario cannot
        complete (`Transition.unless_cancel_requested`)."""

    def add_reports(self, scenario_id: str, reports: list[Report]) -> bool:
        """Append intermediate values `(step, value)` to those of a processing
        scenario's run, thinned to `reports.REPORTS_KEPT`; False (nothing written)
        when it is not processing. A transition with `drops_reports` drops them."""

    def get_reports(self, scenario_id: str) -> list[Report]:
        """The intermediate values of the scenario's latest run, in the order
        reported; empty when there are none (or no such scenario)."""

    def renew_leases(self, owner: str, lease_until: datetime) -> list[ScenarioRecord]:
        """Extend the leases `owner` holds; returns the renewed (processing) records,
        whose `cancel_requested` tells the runner what to stop."""

    def expired_runs(self, now: datetime) -> list[ScenarioRecord]:
        """Processing scenarios whose lease ran out before `now`."""

    def runs_held_by(self, owners: Iterable[str]) -> list[ScenarioRecord]: ...

    def active_owners(self) -> list[str]:
        """Lease owners of processing scenarios."""

    def count_by_status(self, session_id: str | None = None) -> dict[ScenarioStatus, int]:
        """Scenarios by status, of one session or of all (read at each metrics scrape)."""

    def oldest_queued_at(self) -> datetime | None:
        """When the longest-waiting queued scenario (of any session) was queued;
        None when nothing is queued (read at each metrics scrape: one query)."""


class ChangeFeed(Protocol):
    """The change feed session streams follow (see `algomancy_core.changes`)."""

    def append_change(
        self, session_id: str, kind: str, subject: str, payload: dict[str, Any]
    ) -> int:
        """Append a change; its `seq`, greater than every earlier one (the store
        keeps the latest `CHANGES_KEPT`)."""

    def append_changes(self, changes: list[ChangeEntry]) -> None:
        """Append each of `changes`, in order, at once (their seqs follow each other
        in the memory store; one transaction in SQL)."""

    def read_changes(self, after: int, limit: int, session_id: str | None = None) -> list[Change]:
        """Changes with `seq` greater than `after`, oldest first, at most `limit`;
        of one session, or of all."""

    def change_bounds(self) -> tuple[int, int]:
        """`(oldest, latest)` seq kept; `(0, 0)` while there is none."""


@runtime_checkable
class Store(SessionStore, DatasetStore, ScenarioStore, RunQueue, ChangeFeed, Protocol):
    """Persistence of sessions, datasets and scenarios: the protocols of each
    aggregate above, with the books that live beside them (audit, deliveries,
    experiments).

    Writes that must not race (names, claims, transitions) are atomic in the store
    itself; callers never read-modify-write. A store returns records, never a wire
    format: the HTTP layer shapes and encodes what it answers.
    """

    #: True when the state is shared with other processes (SQL stores).
    shared: bool
    #: True when a read answers from this process's memory or a local file, without
    #: waiting on a network or a lock: cheap enough to call on an event loop.
    inline_reads: bool
    #: The audit trail (`algomancy_core.audit`).
    audit: AuditLog
    #: Webhook deliveries to send (`algomancy_core.deliveries`).
    deliveries: DeliveryQueue
    #: Experiments (`algomancy_core.experiments`).
    experiments: ExperimentBook
    #: Optimisation studies (`algomancy_core.studies`).
    studies: StudyBook
    #: True when the scenario writes (`add_scenario`, `apply_transitions`,
    #: `claim_next`, `claim_many`, `update_progress`) append their changes to the
    #: feed themselves, in the same transaction; otherwise the caller appends them
    #: (`append_changes`).
    records_scenario_changes: bool

    def close(self) -> None: ...


def scenario_changes(record: ScenarioRecord, changes: dict[str, Any]) -> ScenarioRecord:
    """`record` with `changes` applied and its version bumped."""
    return record.copy(**changes, version=record.version + 1)
