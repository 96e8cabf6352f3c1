"""The scenario list, from the views it has already written (issue 23).

A scenario's view (`views.scenario_views`, `views.summary_view`) is a function of
its record, whose `version` every write bumps (in memory, on SQLite and on
PostgreSQL, whichever process writes), and of the runtime's algorithms and KPIs,
fixed for the life of an app. So a listing reads only each scenario's
`(id, version)`; the views of versions seen before are reused as JSON bytes, and
only the scenarios that changed (or were never listed) are read whole and written.
Whether a scenario is the pinned baseline is not part of its version: a kept view
ends just before its `baseline` value, which is added per listing.

What it buys (`python -m benchmarks.lists`, 1,000 complete scenarios on SQLite, one
run each on the same shared machine at load 11 on 2 cores, against `orjson.dumps`
of the same payload): full view, p50 from the client 215.9x -> 12.0x and server CPU
per request 71.4x -> 2.9x; summary 423x -> 35.6x and 153x -> 8.1x; a page of 50,
362x -> 136x and 99x -> 13.9x. In-process (`benchmarks.profile_lists`, CPU time): a
kept full listing 0.49 ms against 0.85 ms for the dump, a kept summary 0.46 ms
against 0.29 ms; a first listing costs what it did (~50 ms full, ~40 ms summary)
plus the narrow read of the versions.

The last few listings are also kept whole, with the `(id, version)` list they were
written from: when the same listing reads the same list (and pin), its body is
answered as it is, with no view even joined.

Reading that list was then the whole cost of a kept listing (SQLite visits each
table row for `version`: ~0.5 ms for 1,000, more than `orjson.dumps` of the
summaries). So a kept listing also notes the store's change stamp
(`Store.change_stamp`: on SQLite the file's `PRAGMA data_version`, read on a
connection of its own, which any commit by any process changes), read before
anything else: while it holds, the kept body is answered with nothing read at all.
A changed stamp costs one read of the list; if the list is the same, the new stamp
is noted. What it buys, in process (`benchmarks.profile_lists`, 1,000 scenarios,
CPU time, at load 9 on 2 cores): a kept summary 493 us -> 5.7 us and a kept full
listing 516 us -> 5.6 us, against 308 us and 1,107 us for their `orjson.dumps`.

Before the session is even looked up, the route asks `answered` for the body it
gave the same request (the session as the path names it, the owner, the query) at the
same stamp: any commit changes the stamp, so while it holds that body is the answer,
and the session's read (one SQL query, ~8% of a kept summary's server samples in
py-spy) is skipped too.

The kept views are bounded by `max_bytes` (oldest written dropped first), the kept
listings by `max_bytes` too; an empty cache costs nothing at rest.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Literal, TypeVar

import orjson

from algomancy_api.views import scenario_views, summary_view
from algomancy_core import ScenarioManager
from algomancy_core.stores.base import Store

View = Literal["full", "summary"]
_V = TypeVar("_V")

#: Enough for the views of several 1,000-scenario sessions (one is ~1.2 MB in full).
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
_BASELINE = b',"baseline":'
_TRUE, _FALSE = b"true}", b"false}"
#: Whole listings kept (each at most `max_bytes / _LISTINGS_KEPT`).
_LISTINGS_KEPT = 4


def _open_view(view: dict[str, object]) -> bytes:
    """`view` as JSON without its last member, `baseline`, and the closing brace."""
    baseline = view.pop("baseline")
    written = orjson.dumps(view)
    view["baseline"] = baseline
    return written[:-1] + _BASELINE


@dataclasses.dataclass(frozen=True)
class _Kept:
    """A listing written whole: the store's change stamp read before anything else
    (None if it has none), the pinned baseline and the `(id, version)` list it was
    written from, and its body."""

    stamp: object
    pinned: str | None
    page: list[tuple[str, int]]
    body: bytes


class ScenarioListCache:
    """Scenario views as JSON by `(view, scenario id)`, each with its version."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._views: OrderedDict[tuple[View, str], tuple[int, bytes]] = OrderedDict()
        self._bytes = 0
        #: The last few listings whole, by what was asked.
        self._listings: dict[tuple[object, ...], _Kept] = {}
        #: The last few answers by the request as it came (`answered`): the stamp
        #: read before the answer was made, and the answer.
        self._answers: dict[tuple[object, ...], tuple[object, bytes]] = {}
        self._lock = threading.Lock()

    def listing(
        self,
        manager: ScenarioManager,
        view: View,
        fingerprint: str | None,
        limit: int | None,
        offset: int,
    ) -> bytes:
        """The JSON array `GET …/scenarios` answers, byte for byte as `orjson.dumps`
        of the views would write it."""
        asked, stamp, pinned, page, whole = self._kept(manager, view, fingerprint, limit, offset)
        if whole is not None:
            return whole
        written: dict[str, bytes] = {}
        with self._lock:
            for scenario_id, version in page:
                kept = self._views.get((view, scenario_id))
                if kept is not None and kept[0] == version:
                    written[scenario_id] = kept[1]
        missing = [scenario_id for scenario_id, _ in page if scenario_id not in written]
        if missing:
            written |= self._write(manager, view, missing, pinned)
        body = (
            b"["
            + b",".join(
                written[scenario_id] + (_TRUE if scenario_id == pinned else _FALSE)
                for scenario_id, _ in page
                # One deleted between the two reads is left out.
                if scenario_id in written
            )
            + b"]"
        )
        self._keep_whole(self._listings, asked, _Kept(stamp, pinned, page, body), body)
        return body

    def answered(self, store: Store, request: tuple[object, ...]) -> tuple[object, bytes | None]:
        """The store's change stamp (read first) and the body answered to `request`
        (the session as its path names it, the owner, the query) at that same stamp,
        else None: nothing was committed since, so nothing it says changed."""
        stamp = store.change_stamp()
        if stamp is None:
            return None, None
        with self._lock:
            kept = self._answers.get(request)
        return stamp, kept[1] if kept is not None and kept[0] == stamp else None

    def note_answer(self, stamp: object, request: tuple[object, ...], body: bytes) -> None:
        """`body` answered `request` from what was read after `stamp` (`answered`'s)."""
        if stamp is not None:
            self._keep_whole(self._answers, request, (stamp, body), body)

    def _keep_whole(
        self, kept: dict[tuple[object, ...], _V], key: tuple[object, ...], value: _V, body: bytes
    ) -> None:
        """`value` (`body` and what it was written from) as the newest of `kept`, when
        `body` fits its share of `max_bytes`; the oldest dropped past `_LISTINGS_KEPT`."""
        if len(body) > self.max_bytes // _LISTINGS_KEPT:
            return
        with self._lock:
            kept.pop(key, None)
            kept[key] = value
            while len(kept) > _LISTINGS_KEPT:
                del kept[next(iter(kept))]

    def kept_listing(
        self,
        manager: ScenarioManager,
        view: View,
        fingerprint: str | None,
        limit: int | None,
        offset: int,
    ) -> bytes | None:
        """`listing`'s answer when that listing was written before and nothing in it
        changed since (two narrow reads, no view written), else None: cheap enough
        for the event loop, where `listing` may write a thousand views."""
        return self._kept(manager, view, fingerprint, limit, offset)[4]

    def _kept(
        self,
        manager: ScenarioManager,
        view: View,
        fingerprint: str | None,
        limit: int | None,
        offset: int,
    ) -> tuple[tuple[object, ...], object, str | None, list[tuple[str, int]], bytes | None]:
        """What was asked, the store's change stamp, the pinned baseline, the page's
        `(id, version)` list, and the body kept for them (None when the listing must
        be written)."""
        # First, before anything it vouches for is read.
        stamp = manager.change_stamp()
        asked = (view, manager.session_id, fingerprint, limit, offset)
        with self._lock:
            last = self._listings.get(asked)
        if last is not None and stamp is not None and last.stamp == stamp:
            # Nothing was written to the store since this listing was last checked.
            return asked, stamp, last.pinned, last.page, last.body
        pinned = manager.baseline_id()
        page = manager.page_scenario_versions(fingerprint, limit, offset)
        if last is not None and last.pinned == pinned and last.page == page:
            # Nothing listed changed since the same listing was last written: it
            # holds at this stamp too.
            with self._lock:
                if self._listings.get(asked) is last:
                    self._listings[asked] = dataclasses.replace(last, stamp=stamp)
            return asked, stamp, pinned, page, last.body
        return asked, stamp, pinned, page, None

    def _write(
        self, manager: ScenarioManager, view: View, ids: list[str], pinned: str | None
    ) -> dict[str, bytes]:
        found = manager.scenarios_by_id(ids, summaries=view == "summary")
        records = [found[i] for i in ids if i in found]
        if view == "summary":
            views = [summary_view(manager, r, pinned) for r in records]
        else:
            views = scenario_views(manager, records, pinned)
        written = {}
        with self._lock:
            for record, made in zip(records, views, strict=True):
                opened = _open_view(made)
                written[record.id] = opened
                self._keep((view, record.id), record.version, opened)
        return written

    def _keep(self, key: tuple[View, str], version: int, opened: bytes) -> None:
        if len(opened) > self.max_bytes // 4:
            return
        old = self._views.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        self._views[key] = (version, opened)
        self._bytes += len(opened)
        while self._bytes > self.max_bytes:
            _, (_, dropped) = self._views.popitem(last=False)
            self._bytes -= len(dropped)
