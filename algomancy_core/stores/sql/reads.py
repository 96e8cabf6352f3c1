"""The hot reads of the SQL store, in one place: the status poll, the session
list and the scenario list, each one plain SELECT through the dialect's quickest
path (`SQLDialect.query`: on SQLite a pooled sqlite3 connection in autocommit, on
PostgreSQL psycopg in autocommit, or on the caller's event loop). Building and
compiling a SQLAlchemy statement costs more than running these; plain SQL here is
what holds the poll figures of `python -m benchmarks` (status poll, SQLite /
in memory ≥ 0.8x; PostgreSQL / in memory ≥ 0.5x).

Rows become records through the one decoder of their shape (`rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from algomancy_core.scenario import ScenarioRecord
from algomancy_core.stores.base import ScenarioProgress, SessionRecord
from algomancy_core.stores.sql.database import Database
from algomancy_core.stores.sql.rows import PROGRESS, SCENARIO, SESSION

# -- the status poll ----------------------------------------------------------------
#: A poll's read, without its condition's right-hand side (see `lookup_async`): a few
#: columns of the scenario and its session, one primary-key join.
PROGRESS_WHERE_ID = (
    f"SELECT {PROGRESS.columns} FROM scenarios AS s JOIN sessions AS x "
    "ON s.session_id = x.id WHERE s.id"
)

# -- sessions -----------------------------------------------------------------------
_SESSIONS = f"SELECT {SESSION.columns} FROM sessions"
_SESSION = _SESSIONS + " WHERE id = ?"
_FIND_SESSION = _SESSIONS + " WHERE owner = ? AND display_name = ?"
_OWNED = _SESSIONS + " WHERE owner = ? ORDER BY position"
_ALL_SESSIONS = _SESSIONS + " ORDER BY position"
_NAMES = "SELECT id, display_name FROM sessions WHERE owner = ? ORDER BY position"
_COUNT_SESSIONS = "SELECT count(*) FROM sessions WHERE owner = ?"

# -- scenarios ----------------------------------------------------------------------
SCENARIO_BY_ID = f"SELECT {SCENARIO.columns} FROM scenarios WHERE id = ?"
_IN_SESSION = f"SELECT {SCENARIO.columns} FROM scenarios WHERE session_id = ? ORDER BY position"
#: A scenario, and the id of its (given) session's pinned baseline.
_WITH_BASELINE = (
    f"SELECT {SCENARIO.columns}, (SELECT b.scenario_id FROM baselines AS b "
    "WHERE b.session_id = ?) FROM scenarios WHERE id = ?"
)
#: A listing never reads the result column: it is the large one.
_SUMMARIES = (
    f"SELECT {SCENARIO.columns_without('result')} FROM scenarios "
    "WHERE session_id = ? ORDER BY position"
)
#: A page of a session's scenarios (`LIMIT`/`OFFSET` on its order), maybe of one
#: fingerprint; `{columns}` are all or all but the result.
_PAGE = (
    "SELECT {columns} FROM scenarios WHERE session_id = ?{fingerprint} "
    "ORDER BY position LIMIT ? OFFSET ?"
)
#: A page's ids and versions: what a cached listing reads (`page_scenario_versions`).
_VERSIONS = (
    "SELECT id, version FROM scenarios WHERE session_id = ?{fingerprint} "
    "ORDER BY position LIMIT ? OFFSET ?"
)
#: Scenarios by id (primary-key lookups; `{marks}` their placeholders, at most
#: `_IDS_AT_ONCE`, within every driver's limit on parameters). Their session is
#: checked on the records: a condition on it here lets SQLite scan the session's
#: index instead.
_BY_IDS = "SELECT {columns} FROM scenarios WHERE id IN ({marks})"
_IDS_AT_ONCE = 500
#: Scenarios of one session (the index on session_id and position answers it).
COUNT_IN_SESSION = "SELECT count(*) FROM scenarios WHERE session_id = ?"


#: Polled scenarios whose answers are kept at one change stamp (more are read).
PROGRESS_KEPT = 1024


class KeptProgress:
    """Status-poll answers kept while the store's `change_stamp` holds: a poll of
    an unchanged SQLite file costs the stamp (`PRAGMA data_version`, ~5 us) instead
    of its SELECT (~16 us, `timeit`, and its row's decoding). Any commit, by any
    process, changes the stamp, and a changed stamp drops every answer kept; the
    stamp is read before the SELECT, so an answer is never older than its stamp.
    Bought figure: "8/11 status poll, SQLite / in memory" (`benchmarks.bench_status`):
    in process, memory poll / SQLite poll through the whole app (40 interleaved
    rounds of 200 calls, best round, this and the previous commit in turn, three
    pairs on 2 shared cores, load ~5): 0.74x / 0.69x / 0.74x without, 0.91x / 0.87x /
    0.91x with (SQLite poll 65-71 us -> 54-55 us, the memory poll 47-50 us).
    Without it, the memory poll made cheaper by `algomancy_api.leafdeps` left the
    SQLite one further behind. PostgreSQL has no stamp: every poll reads."""

    def __init__(self) -> None:
        self.stamp: object | None = None
        self.found: dict[str, ScenarioProgress] = {}

    def get(self, stamp: object, scenario_id: str) -> ScenarioProgress | None:
        """The answer kept for `scenario_id` at `stamp`, or None (then read it)."""
        if stamp != self.stamp:
            self.stamp, self.found = stamp, {}
            return None
        return self.found.get(scenario_id)

    def keep(self, stamp: object, scenario_id: str, found: ScenarioProgress) -> None:
        if stamp == self.stamp and len(self.found) < PROGRESS_KEPT:
            self.found[scenario_id] = found


class HotReads:
    """The reads above, as the `Store` methods that make them."""

    db: Database
    _kept_progress: KeptProgress | None = None

    # -- the status poll ------------------------------------------------------------
    async def get_scenario_progress_async(self, scenario_id: str) -> ScenarioProgress | None:
        """One SELECT; on SQLite, none while the file is unchanged (`KeptProgress`)."""
        stamp = self.db.dialect.change_stamp()
        kept = self._kept_progress
        if stamp is not None:
            if kept is None:
                kept = self._kept_progress = KeptProgress()
            found = kept.get(stamp, scenario_id)
            if found is not None:
                return found
        rows = await self.db.dialect.lookup_async(self.db.engine, PROGRESS_WHERE_ID, scenario_id)
        if not rows:
            return None
        found = self._progress(rows[0])
        if kept is not None and stamp is not None:
            kept.keep(stamp, scenario_id, found)
        return found

    def _progress(self, row: tuple[object, ...]) -> ScenarioProgress:
        return PROGRESS.decoder(self.db.dialect.decode_time)(row)

    # -- sessions -------------------------------------------------------------------
    def _sessions(self, sql: str, params: tuple[object, ...]) -> list[SessionRecord]:
        decode = SESSION.decoder(self.db.dialect.decode_time)
        return [decode(row) for row in self.db.dialect.query(self.db.engine, sql, params)]

    def get_session(self, session_id: str) -> SessionRecord | None:
        found = self._sessions(_SESSION, (session_id,))
        return found[0] if found else None

    def find_session(self, display_name: str, owner: str | None) -> SessionRecord | None:
        found = self._sessions(_FIND_SESSION, (owner or "", display_name))
        return found[0] if found else None

    def list_sessions(
        self, owner: str | None, limit: int | None = None, offset: int = 0
    ) -> list[SessionRecord]:
        if limit is not None:
            return self._sessions(_OWNED + " LIMIT ? OFFSET ?", (owner or "", limit, offset))
        listed = self._sessions(_OWNED, (owner or "",))
        return listed[offset:] if offset else listed

    def list_session_names(self, owner: str | None) -> list[tuple[str, str]]:
        # The driver's rows are those pairs already: not copied (10,000 sessions).
        rows = self.db.dialect.query(self.db.engine, _NAMES, (owner or "",))
        return cast("list[tuple[str, str]]", rows)

    def list_all_sessions(self) -> list[SessionRecord]:
        return self._sessions(_ALL_SESSIONS, ())

    def count_sessions(self, owner: str | None) -> int:
        return int(self.db.dialect.query(self.db.engine, _COUNT_SESSIONS, (owner or "",))[0][0])

    # -- scenarios ------------------------------------------------------------------
    def _scenarios(self, sql: str, params: tuple[object, ...]) -> list[ScenarioRecord]:
        decode = SCENARIO.decoder(self.db.dialect.decode_time)
        return [decode(row) for row in self.db.dialect.query(self.db.engine, sql, params)]

    def get_scenario_by_id(self, scenario_id: str) -> ScenarioRecord | None:
        found = self._scenarios(SCENARIO_BY_ID, (scenario_id,))
        return found[0] if found else None

    def get_scenario(self, session_id: str, scenario_id: str) -> ScenarioRecord | None:
        found = self._scenarios(SCENARIO_BY_ID, (scenario_id,))
        if not found or found[0].session_id != session_id:
            return None
        return found[0]

    def get_scenario_and_baseline(
        self, session_id: str, scenario_id: str
    ) -> tuple[ScenarioRecord | None, str | None]:
        # One statement, not two: a run request's answer (`POST …/run`) says whether
        # its scenario is the baseline, "11 create+run+complete, HTTP: SQLite / in
        # memory" (benchmarks/bench_scenarios.py).
        dialect = self.db.dialect
        rows = dialect.query(self.db.engine, _WITH_BASELINE, (session_id, scenario_id))
        if not rows:
            return None, None
        record = SCENARIO.decoder(dialect.decode_time)(rows[0][:-1])
        if record.session_id != session_id:
            return None, None
        return record, rows[0][-1]

    def list_scenarios(self, session_id: str) -> list[ScenarioRecord]:
        return self._scenarios(_IN_SESSION, (session_id,))

    def list_scenario_summaries(self, session_id: str) -> list[ScenarioRecord]:
        return self._scenarios(_SUMMARIES, (session_id,))

    def page_scenarios(
        self,
        session_id: str,
        fingerprint: str | None,
        limit: int | None,
        offset: int,
        *,
        summaries: bool = False,
    ) -> list[ScenarioRecord]:
        """One page, paged in SQL; with `summaries`, the result column is never read
        (as `list_scenario_summaries`)."""
        columns = SCENARIO.columns_without("result") if summaries else SCENARIO.columns
        sql = _PAGE.format(
            columns=columns, fingerprint="" if fingerprint is None else " AND fingerprint = ?"
        )
        # LIMIT -1 (SQLite) and LIMIT ALL (PostgreSQL) differ; a bound past any count does not.
        params: tuple[object, ...] = (
            (session_id,) if fingerprint is None else (session_id, fingerprint)
        )
        return self._scenarios(sql, (*params, 2**62 if limit is None else limit, offset))

    def page_scenario_versions(
        self, session_id: str, fingerprint: str | None, limit: int | None, offset: int
    ) -> list[tuple[str, int]]:
        """Two narrow columns a row, nothing decoded: a listing of 1,000 unchanged
        scenarios reads these and the views it kept (`algomancy_api.listing`)."""
        sql = _VERSIONS.format(fingerprint="" if fingerprint is None else " AND fingerprint = ?")
        params: tuple[object, ...] = (
            (session_id,) if fingerprint is None else (session_id, fingerprint)
        )
        # The rows as they come: `(str, int)` tuples on both dialects.
        rows: list[Any] = self.db.dialect.query(
            self.db.engine, sql, (*params, 2**62 if limit is None else limit, offset)
        )
        return rows

    def change_stamp(self) -> object | None:
        """On SQLite, the file's data version (`connections.DataVersion`): a few
        microseconds, against ~0.5 ms for the 1,000 `(id, version)` rows of
        `page_scenario_versions` (SQLite visits each table row: `version` is not in
        the index). An unchanged scenario list of 1,000 is then answered without
        reading a row (see `algomancy_api.listing` for the figure)."""
        return self.db.dialect.change_stamp()

    def get_scenarios(
        self, session_id: str, ids: Sequence[str], *, summaries: bool = False
    ) -> list[ScenarioRecord]:
        columns = SCENARIO.columns_without("result") if summaries else SCENARIO.columns
        found: list[ScenarioRecord] = []
        for start in range(0, len(ids), _IDS_AT_ONCE):
            chunk = tuple(ids[start : start + _IDS_AT_ONCE])
            sql = _BY_IDS.format(columns=columns, marks=", ".join("?" * len(chunk)))
            found += [r for r in self._scenarios(sql, chunk) if r.session_id == session_id]
        return found

    def count_scenarios(self, session_id: str) -> int:
        rows = self.db.dialect.query(self.db.engine, COUNT_IN_SESSION, (session_id,))
        return int(rows[0][0])


__all__ = ["COUNT_IN_SESSION", "PROGRESS_WHERE_ID", "SCENARIO_BY_ID", "HotReads"]
