"""The status poll's read on an event loop (`get_scenario_progress_async`).

Every store answers with the scenario and its session as they are. PostgreSQL reads
with asyncio psycopg on the caller's loop, and polls that arrive while a query is
out share the next one: these tests pin what that may and may not change. A poll
never joins a query already sent, so it never answers older than its own arrival.
"""

from __future__ import annotations

import asyncio
import os
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from algomancy_core import NotFoundError, ScenarioStatus, SessionManager
from algomancy_core.stores import Store
from algomancy_core.stores.base import ScenarioProgress
from algomancy_core.stores.sql import SQLStore
from algomancy_core.stores.sql.connections import LoopReads
from algomancy_core.stores.sql.dialect import PostgresDialect, SQLiteDialect
from tests.pg import PostgresServer, postgres_server, postgres_url  # noqa: F401

from .conftest import make_config
from .test_core_stores import new_scenario, new_session, open_store, queue, store, store_url  # noqa: F401

S = ScenarioStatus


def test_async_read_answers_as_the_blocking_one(store: Store) -> None:  # noqa: F811
    session = new_session(store)
    first = new_scenario(store, session.id, "first")
    queue(store, first.id)

    async def both() -> tuple[Any, Any]:
        return await asyncio.gather(
            store.get_scenario_progress_async(first.id),
            store.get_scenario_progress_async("no-such-scenario"),
        )

    found, missing = asyncio.run(both())
    assert found == ScenarioProgress(
        first.id, "first", S.QUEUED, 0.0, session.id, session.display_name, session.owner
    )
    assert missing is None


def test_session_manager_async_poll_has_the_same_answers_and_errors(
    store_url: str | None,  # noqa: F811
) -> None:
    with SessionManager(make_config(database_url=store_url)) as sessions:
        main = sessions.get_session("main")
        other = sessions.create_session("other")
        scenario = main.create_scenario("s", "Master data", "Instant", {})

        async def poll(session: str, scenario_id: str) -> Any:
            return await sessions.scenario_progress_async(session, scenario_id)

        for session in ("main", main.session_id):
            found = asyncio.run(poll(session, scenario.id))
            assert found == ScenarioProgress(
                scenario.id, "s", S.CREATED, 0.0, main.session_id, "main", None
            )
        for session, scenario_id in (
            (other.session_id, scenario.id),  # a scenario of another session
            ("main", "no-such-scenario"),
            ("no-such-session", scenario.id),
        ):
            with pytest.raises(NotFoundError) as blocking:
                sessions.get_session(session).get_scenario(scenario_id)
            with pytest.raises(NotFoundError) as on_loop:
                asyncio.run(poll(session, scenario_id))
            assert str(on_loop.value) == str(blocking.value)


# -- SQLite: answers kept while the file's data version holds ---------------------


@pytest.fixture
def sqlite_stores(tmp_path: Path) -> Iterator[tuple[SQLStore, SQLStore]]:
    """Two stores on one SQLite file: the poller and another writer (as another
    worker process writes, with connections of its own)."""
    url = f"sqlite:///{tmp_path / 'algomancy.sqlite3'}"
    one, other = SQLStore(url), SQLStore(url)
    yield one, other
    one.close()
    other.close()


def selects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The scenario ids the poll's SELECT is sent for."""
    sent: list[str] = []
    original = SQLiteDialect.lookup_async

    async def lookup_async(dialect: SQLiteDialect, engine: Any, select: str, key: Any) -> Any:
        sent.append(key)
        return await original(dialect, engine, select, key)

    monkeypatch.setattr(SQLiteDialect, "lookup_async", lookup_async)
    return sent


def poll(poller: SQLStore, scenario_id: str) -> ScenarioProgress | None:
    return asyncio.run(poller.get_scenario_progress_async(scenario_id))


def test_a_poll_of_an_unchanged_sqlite_file_sends_no_select(
    sqlite_stores: tuple[SQLStore, SQLStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second poll of a scenario answers what the first read, without reading
    (issue 22: "SQLite polls / in memory"); a missing scenario is read each time."""
    poller, _ = sqlite_stores
    session = new_session(poller)
    scenario = new_scenario(poller, session.id, "s")
    sent = selects(monkeypatch)
    first = poll(poller, scenario.id)
    assert poll(poller, scenario.id) == first
    assert first is not None and first.tag == "s"
    assert poll(poller, "missing") is None and poll(poller, "missing") is None
    assert sent == [scenario.id, "missing", "missing"]


def test_a_poll_after_any_write_reads_again(
    sqlite_stores: tuple[SQLStore, SQLStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit by this store or by another on the file (another process) changes
    the data version: the next poll reads, and sees the write."""
    poller, other = sqlite_stores
    session = new_session(poller)
    scenario = new_scenario(poller, session.id, "s")
    sent = selects(monkeypatch)
    assert poll(poller, scenario.id) == ScenarioProgress(
        scenario.id, "s", S.CREATED, 0.0, session.id, session.display_name, None
    )
    queue(other, scenario.id)
    found = poll(poller, scenario.id)
    assert found is not None and found.status is S.QUEUED
    poller.rename_session(session.id, "renamed")
    found = poll(poller, scenario.id)
    assert found is not None and found.session_name == "renamed"
    other.delete_scenario(session.id, scenario.id)
    assert poll(poller, scenario.id) is None
    assert sent == [scenario.id] * 4


# -- PostgreSQL: asyncio psycopg, lookups batched ---------------------------------


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[SQLStore]:  # noqa: F811
    opened = SQLStore(postgres_url)
    yield opened
    opened.close()


class CountedQueries:
    """The queries `LoopReads` sends, each as the keys it asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[list[str]] = []
        self.answered = 0
        self.after_send: asyncio.Event | None = None
        original = LoopReads.run
        counted = self

        async def run(reads: LoopReads, sql: str, params: tuple[Any, ...]) -> Any:
            counted.sent.append(list(params[0]))
            rows = await original(reads, sql, params)
            counted.answered += 1
            if counted.after_send is not None:
                await counted.after_send.wait()
            return rows

        monkeypatch.setattr(LoopReads, "run", run)


@pytest.mark.postgres
def test_polls_arriving_together_share_one_query(
    pg_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session(pg_store)
    ids = [new_scenario(pg_store, session.id, f"s{i}").id for i in range(5)]
    asked = [*ids, "missing", *ids]  # repeated keys and a missing one
    counted = CountedQueries(monkeypatch)

    async def polls() -> list[Any]:
        return await asyncio.gather(*(pg_store.get_scenario_progress_async(i) for i in asked))

    found = asyncio.run(polls())
    assert [None if f is None else f.id for f in found] == [*ids, None, *ids]
    assert all(f.tag == f"s{ids.index(f.id)}" for f in found if f is not None)
    assert len(counted.sent) == 1 and sorted(counted.sent[0]) == sorted({*asked})


@pytest.mark.postgres
def test_a_poll_never_joins_a_query_already_sent(
    pg_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Poll A's query is out when a write commits and poll B arrives: B must see the
    write (it waits for a query of its own), as it would without batching."""
    session = new_session(pg_store)
    scenario = new_scenario(pg_store, session.id, "s")
    counted = CountedQueries(monkeypatch)

    async def race() -> tuple[Any, Any]:
        counted.after_send = asyncio.Event()
        first = asyncio.create_task(pg_store.get_scenario_progress_async(scenario.id))
        while not counted.answered:  # A's query has read, its answer is held back
            await asyncio.sleep(0.001)
        await asyncio.to_thread(queue, pg_store, scenario.id)  # commits before B
        second = asyncio.create_task(pg_store.get_scenario_progress_async(scenario.id))
        await asyncio.sleep(0.01)
        counted.after_send.set()
        return await first, await second

    first, second = asyncio.run(race())
    assert (first.status, second.status) == (S.CREATED, S.QUEUED)
    assert len(counted.sent) == 2


@pytest.mark.postgres
def test_a_poll_does_not_wait_for_anothers_query_while_a_connection_is_free(
    pg_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 23's "no request waits behind another's I/O": poll A's query is out
    (its answer held back) when poll B arrives; B's query is sent and answered on
    another connection before A's returns."""
    session = new_session(pg_store)
    first_id, second_id = (new_scenario(pg_store, session.id, t).id for t in ("a", "b"))
    counted = CountedQueries(monkeypatch)

    async def overlap() -> tuple[Any, Any]:
        counted.after_send = asyncio.Event()
        first = asyncio.create_task(pg_store.get_scenario_progress_async(first_id))
        while not counted.answered:  # A's query has read, its answer is held back
            await asyncio.sleep(0.001)
        second = asyncio.create_task(pg_store.get_scenario_progress_async(second_id))

        async def second_answered() -> None:
            while counted.answered < 2:
                await asyncio.sleep(0.001)

        # Without a free connection's query of its own, B would wait for A: never here.
        await asyncio.wait_for(second_answered(), timeout=30)
        assert not first.done()
        counted.after_send.set()
        return await first, await second

    first, second = asyncio.run(overlap())
    assert (first.id, second.id) == (first_id, second_id)
    assert counted.sent == [[first_id], [second_id]]


@pytest.mark.postgres
def test_a_poll_that_goes_away_leaves_the_others_answered(
    pg_store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session(pg_store)
    scenario = new_scenario(pg_store, session.id, "s")
    counted = CountedQueries(monkeypatch)

    async def polls() -> Any:
        counted.after_send = asyncio.Event()
        leaving = asyncio.create_task(pg_store.get_scenario_progress_async(scenario.id))
        staying = asyncio.create_task(pg_store.get_scenario_progress_async(scenario.id))
        while not counted.sent:
            await asyncio.sleep(0.001)
        leaving.cancel()
        counted.after_send.set()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        return await staying, await pg_store.get_scenario_progress_async(scenario.id)

    staying, later = asyncio.run(polls())
    assert staying.id == later.id == scenario.id


@pytest.mark.postgres
def test_polls_recover_when_the_server_drops_their_connections(
    pg_store: SQLStore,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    session = new_session(pg_store)
    scenario = new_scenario(pg_store, session.id, "s")

    async def poll_twice() -> Any:
        assert await pg_store.get_scenario_progress_async(scenario.id) is not None
        with postgres_server.admin() as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (sa.make_url(postgres_url).database,),
            ).fetchone()
        assert ended is not None and ended[0] >= 1
        return await pg_store.get_scenario_progress_async(scenario.id)

    found = asyncio.run(poll_twice())
    assert found is not None and found.id == scenario.id


@pytest.mark.postgres
def test_each_event_loop_is_served(pg_store: SQLStore) -> None:
    """asyncio connections belong to one loop. A second loop running at the same
    time reads on worker threads; a loop that follows a closed one (a test client
    each) takes the connections over."""
    session = new_session(pg_store)
    scenario = new_scenario(pg_store, session.id, "s")
    dialect = pg_store.db.dialect
    assert isinstance(dialect, PostgresDialect)
    holder_ready, release = threading.Event(), threading.Event()

    def hold_a_loop() -> None:
        async def hold() -> None:
            assert await pg_store.get_scenario_progress_async(scenario.id) is not None
            holder_ready.set()
            await asyncio.to_thread(release.wait)

        asyncio.run(hold())

    holder = threading.Thread(target=hold_a_loop)
    holder.start()
    try:
        assert holder_ready.wait(10)

        async def poll() -> Any:
            found = await pg_store.get_scenario_progress_async(scenario.id)
            return found, dialect._loop_reads()

        found, reads = asyncio.run(poll())
        assert found is not None and found.id == scenario.id and reads is None
    finally:
        release.set()
        holder.join()
    found, reads = asyncio.run(poll())
    assert found is not None and reads is not None


@pytest.mark.postgres
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_drops_the_parents_loop_reads(pg_store: SQLStore) -> None:
    """The parent's asyncio connections must not be used, nor closed, in a child:
    the child forgets them (the same `os.register_at_fork` hook as the lenders)."""
    session = new_session(pg_store)
    scenario = new_scenario(pg_store, session.id, "s")
    dialect = pg_store.db.dialect
    assert isinstance(dialect, PostgresDialect)
    assert asyncio.run(pg_store.get_scenario_progress_async(scenario.id)) is not None
    assert dialect._async_reads is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        os._exit(0 if dialect._async_reads is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert dialect._async_reads is not None  # the parent's, untouched
    assert asyncio.run(pg_store.get_scenario_progress_async(scenario.id)) is not None
