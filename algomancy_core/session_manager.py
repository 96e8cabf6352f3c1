"""`SessionManager`: every session, each a `ScenarioManager` over the shared store."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import ParamSpec, TypeGuard, TypeVar

import anyio.to_thread

from algomancy_core.audit import audit_subject
from algomancy_core.config import CoreConfig
from algomancy_core.errors import ConflictError, NotFoundError
from algomancy_core.names import check_name, nfc
from algomancy_core.runtime import Runtime
from algomancy_core.scenario import new_id, utcnow
from algomancy_core.scenario_manager import ScenarioManager
from algomancy_core.stores import Store
from algomancy_core.stores.base import ScenarioProgress, SessionRecord

MAIN = "main"

P = ParamSpec("P")
T = TypeVar("T")


class SessionManager:
    """All sessions. A session named `main` exists whenever no other does.

    `owner` scopes every call to one user's sessions (None when authentication is
    off); another owner's session is reported as not found.
    """

    def __init__(self, config: CoreConfig | Runtime) -> None:
        self.runtime = config if isinstance(config, Runtime) else Runtime(config)

    @property
    def engine(self) -> Runtime:
        """`runtime`'s old name (when `Runtime` was `Engine`), still read by some code."""
        return self.runtime

    @property
    def _store(self) -> Store:
        return self.runtime.store

    @property
    def started(self) -> bool:
        """True once `start()` has run (the store is open and runs are claimed)."""
        return self.runtime.started

    def start(self) -> None:
        """Start running scenarios and make sure the default session exists."""
        self.runtime.start()
        self.ensure_main(None)

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> SessionManager:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def read(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`func(*args)`, for a caller on an event loop: inline when the store reads
        without waiting (memory, SQLite), else on the worker threads that also run
        the server's blocking routes (PostgreSQL)."""
        if self._store.inline_reads:
            return func(*args, **kwargs)
        return await anyio.to_thread.run_sync(lambda: func(*args, **kwargs))

    # -- lookups -------------------------------------------------------------
    def ensure_main(self, owner: str | None) -> None:
        if self._store.count_sessions(owner) == 0:
            # Another process or thread may create it first; one `main` is enough.
            with contextlib.suppress(ConflictError):
                self.create_session(MAIN, owner)

    def list_sessions(self, owner: str | None = None) -> list[SessionRecord]:
        listed = self._store.list_sessions(owner)
        if listed:
            return listed
        # None yet: `main` appears; one read of the store in the common case.
        self.ensure_main(owner)
        return self._store.list_sessions(owner)

    def page_sessions(
        self, owner: str | None, limit: int | None, offset: int
    ) -> tuple[list[SessionRecord], str]:
        """`limit` sessions from `offset` on (oldest first), and the id of the
        default session (among all of them, not only the page)."""
        default = self.default_session_id(owner)
        return self._store.list_sessions(owner, limit, offset), default

    def session_index(self, owner: str | None = None) -> tuple[list[tuple[str, str]], str]:
        """`(id, display_name)` of each of the owner's sessions, oldest first (read
        without a record per row: listings of thousands), and the default's id."""
        default = self.default_session_id(owner)
        return self._store.list_session_names(owner), default

    def default_session_id(self, owner: str | None = None) -> str:
        """The id of the owner's session named `main` if there is one, else of their
        oldest; a `main` is made first when they have none. Two light reads."""
        main = self._store.find_session(MAIN, owner)
        if main is not None:
            return main.id
        first = self._store.list_sessions(owner, 1, 0)
        if first:
            return first[0].id
        self.ensure_main(owner)
        return self.default_session_id(owner)

    def all_sessions(self, owner: str | None) -> list[SessionRecord]:
        """Every user's sessions, oldest first, for an administrator `owner` (whose
        own `main` is made to exist first)."""
        self.ensure_main(owner)
        return self._store.list_all_sessions()

    def owner_for(self, session: str, owner: str | None) -> str | None:
        """Whose session an administrator `owner` means by `session`: their own
        session of that UUID or display name first, else any user's session with
        that UUID (display names are unique per user only). When there is none,
        `owner`, so that the lookup that follows answers "not found" as usual."""
        if self._lookup(session, owner) is not None or not _is_uuid(session):
            return owner
        record = self._store.get_session(session)
        return record.owner if record is not None else owner

    def get_session(self, session: str, owner: str | None = None) -> ScenarioManager:
        """By UUID, or by current display name."""
        return ScenarioManager(self.runtime, self._record(session, owner))

    async def scenario_progress_async(
        self, session: str, scenario_id: str, owner: str | None = None
    ) -> ScenarioProgress:
        """A scenario's status and progress, for polls: one read of the store, which
        never blocks the caller's event loop (PostgreSQL reads with asyncio psycopg).
        The same answers (and errors) as `get_session(session).get_scenario(id)`."""
        found = await self._store.get_scenario_progress_async(scenario_id)
        if _progress_in(found, session, owner):
            return found
        return await self.read(self._progress_the_long_way, session, scenario_id, owner)

    def _progress_the_long_way(
        self, session: str, scenario_id: str, owner: str | None
    ) -> ScenarioProgress:
        """Not in that session (or no such session): say which, as the long way does."""
        manager = self.get_session(session, owner)
        record = manager.get_scenario(scenario_id)
        return ScenarioProgress(
            record.id,
            record.tag,
            record.status,
            record.progress,
            manager.session_id,
            manager.display_name,
            owner,
        )

    def _record(self, session: str, owner: str | None) -> SessionRecord:
        record = self._lookup(session, owner)
        if record is None and session == MAIN:
            self.ensure_main(owner)
            record = self._lookup(session, owner)
        if record is None:
            raise NotFoundError(f"session {session!r} not found")
        return record

    def _lookup(self, session: str, owner: str | None) -> SessionRecord | None:
        record = self._store.get_session(session) if _is_uuid(session) else None
        if record is None or record.owner != owner:
            record = self._store.find_session(nfc(session), owner)
        return record

    # -- changes -------------------------------------------------------------
    def create_session(self, display_name: str, owner: str | None = None) -> ScenarioManager:
        display_name = check_name("display_name", display_name, self.runtime.config.max_name_chars)
        self._check_session_count(owner)
        # Loaded before the session exists: the first load parses workbooks in a child
        # process (seconds), and another process must not see the session without them.
        initial = self.runtime.initial_datasets()
        record = SessionRecord(
            id=new_id(), display_name=display_name, created_at=utcnow(), owner=owner
        )
        audit_subject(session_id=record.id)
        self._store.create_session(record)
        manager = ScenarioManager(self.runtime, record)
        for key, data in initial.items():
            self._store.put_dataset(record.id, key, data, replace=True)
        return manager

    def copy_session(
        self, session: str, new_display_name: str, owner: str | None = None
    ) -> ScenarioManager:
        """Copy datasets and scenarios: finished ones with their results and KPIs,
        queued or running ones as `created`; the copy of the pinned baseline is the
        copy's pinned baseline."""
        source = self._record(session, owner)
        new_display_name = check_name(
            "new_display_name", new_display_name, self.runtime.config.max_name_chars
        )
        self._check_session_count(owner)
        record = SessionRecord(
            id=new_id(), display_name=new_display_name, created_at=utcnow(), owner=owner
        )
        audit_subject(copy_id=record.id)
        self._store.create_session(record)
        try:
            numbers = self._copy_datasets(source.id, record.id)
            pinned = self._store.get_baseline(source.id)
            for scenario in self._store.list_scenarios(source.id):
                pin = numbers.get((scenario.dataset_key, scenario.dataset_version))
                copy_id = new_id()
                self.runtime.lifecycle.copy(scenario.copy(dataset_version=pin), copy_id, record.id)
                if scenario.id == pinned:
                    self._store.set_baseline(record.id, copy_id)
        except Exception:
            self._store.delete_session(record.id)
            raise
        return ScenarioManager(self.runtime, record)

    def _copy_datasets(self, source_id: str, target_id: str) -> dict[tuple[str, int | None], int]:
        """Every kept version of every dataset, oldest first; the version numbers
        in the copy by `(key, number in the source)`."""
        numbers: dict[tuple[str, int | None], int] = {}
        for key in self._store.list_datasets(source_id):
            versions = self._store.list_dataset_versions(source_id, key)
            for version in reversed(versions):
                copied = self._store.put_dataset(
                    target_id,
                    key,
                    self._store.get_dataset(source_id, key, version.version),
                    replace=True,
                    creator=version.creator,
                    messages=version.messages,
                    keep=len(versions) + 1,
                    digest=version.digest,
                )
                numbers[(key, version.version)] = copied.version
            # A scenario of unknown lineage keeps it in the copy.
            numbers.pop((key, None), None)
        return numbers

    def _check_session_count(self, owner: str | None) -> None:
        limit = self.runtime.config.max_sessions_per_user
        if self._store.count_sessions(owner) >= limit:
            raise ConflictError(
                f"the session limit is reached: a user may have {limit} sessions "
                "(max_sessions_per_user); delete one first"
            )

    def rename_session(
        self, session: str, display_name: str, owner: str | None = None
    ) -> SessionRecord:
        display_name = check_name("display_name", display_name, self.runtime.config.max_name_chars)
        record = self._record(session, owner)
        renamed = self._store.rename_session(record.id, display_name)
        self.runtime.changes.record(
            renamed.id, "session.renamed", renamed.id, {"session": {"display_name": display_name}}
        )
        return renamed

    def delete_session(self, session: str, owner: str | None = None) -> None:
        """Delete a session with its data; its queued and running scenarios are
        cancelled. Deleting the last session leaves a fresh `main`."""
        record = self._record(session, owner)
        audit_subject(session_id=record.id)
        manager = ScenarioManager(self.runtime, record)
        for scenario in manager.list_scenarios():
            if scenario.status.is_active:
                try:
                    manager.cancel_scenario(scenario.id)
                except (ConflictError, NotFoundError):
                    continue
        self._store.delete_session(record.id)
        self.runtime.changes.record(record.id, "session.deleted", record.id, {})
        self.ensure_main(owner)


def _progress_in(
    found: ScenarioProgress | None, session: str, owner: str | None
) -> TypeGuard[ScenarioProgress]:
    """`found` is a scenario of `session` (its id, or its name), owned by `owner`."""
    if found is None or found.owner != owner:
        return False
    return found.session_id == session or (found.session_name == session and not _is_uuid(session))


def _is_uuid(value: str) -> bool:
    if len(value) < 32:  # every spelling of a UUID has 32 hex digits
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
