"""In-process notification of scenario changes, for event streams and waiters.

Transitions and progress reports publish the scenario id; subscribers then read the
store. Across processes there is no notification, so subscribers also re-read the
store on a short timeout.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict, defaultdict, deque
from typing import Any

from algomancy_core.scenario import RUN_STARTS, TERMINAL, ScenarioRecord

#: Events kept per scenario, and scenarios kept, for streams that fall behind.
HISTORY_PER_SCENARIO = 256
HISTORY_SCENARIOS = 2048


#: What followers of a scenario are told about each change: each key of the event,
#: and the record's field (the scenario column, in SQL) it tells. SQLite's change feed
#: writes the same from the row (`stores/sql/triggers.py`).
SCENARIO_EVENT_FIELDS: dict[str, str] = {
    "version": "version",
    "id": "id",
    "tag": "tag",
    "status": "status",
    "progress": "progress",
    "message": "progress_message",
    "error": "error",
}


def scenario_event(record: ScenarioRecord) -> dict[str, Any]:
    """What followers of a scenario are told about each change (`SCENARIO_EVENT_FIELDS`)."""
    event = {key: getattr(record, name) for key, name in SCENARIO_EVENT_FIELDS.items()}
    event["status"] = record.status.value
    return event


class Notifier:
    """Wakes threads and asyncio tasks waiting for a scenario to change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._history: OrderedDict[str, deque[dict[str, Any]]] = OrderedDict()
        self._condition = threading.Condition(self._lock)
        self._async_waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set)
        )

    def publish(self, scenario_id: str, record: ScenarioRecord | None = None) -> None:
        """Tell waiters that `scenario_id` changed; `record` (its new state) is kept
        so that a stream sees every status it went through, in order."""
        with self._condition:
            if record is not None:
                self._remember(record)
            self._condition.notify_all()
            waiters = list(self._async_waiters.get(scenario_id, ()))
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                # The subscriber's loop has closed; it no longer listens.
                self._discard(scenario_id, loop, event)

    def _remember(self, record: ScenarioRecord) -> None:
        events = self._history.get(record.id)
        if events is None:
            events = self._history[record.id] = deque(maxlen=HISTORY_PER_SCENARIO)
            if len(self._history) > HISTORY_SCENARIOS:
                self._history.popitem(last=False)
        else:
            self._history.move_to_end(record.id)
        if not events or events[-1]["version"] < record.version:
            events.append(scenario_event(record))

    def history(self, scenario_id: str, after: int = -1) -> list[dict[str, Any]]:
        """Events of `scenario_id` newer than version `after` seen in this process."""
        with self._lock:
            events = self._history.get(scenario_id, ())
            return [e for e in events if e["version"] > after]

    def current_run(self, record: ScenarioRecord) -> list[dict[str, Any]]:
        """The events of `record`'s current run seen in this process, from the change
        that started it (its latest `queued`, or `created`) up to `record`; earlier
        runs are left out. Empty when this process saw no start of the run."""
        with self._lock:
            events = [e for e in self._history.get(record.id, ()) if e["version"] <= record.version]
        starts = [i for i, e in enumerate(events) if e["status"] in RUN_STARTS]
        return events[starts[-1] :] if starts else []

    def wait_for_end(self, scenario_id: str, after: int, timeout: float) -> bool:
        """Block the calling thread until this process publishes that `scenario_id`
        ended (complete or failed) at a version newer than `after`; False when
        `timeout` seconds passed first. Other publications wake it only to check."""

        def ended() -> bool:
            events = self._history.get(scenario_id)
            if not events:
                return False
            return bool(events[-1]["version"] > after and events[-1]["status"] in TERMINAL)

        with self._condition:
            return self._condition.wait_for(ended, timeout)

    def subscribe(self, scenario_id: str) -> AsyncSubscription:
        return AsyncSubscription(self, scenario_id)

    def _add(self, scenario_id: str, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        with self._lock:
            self._async_waiters[scenario_id].add((loop, event))

    def _discard(
        self, scenario_id: str, loop: asyncio.AbstractEventLoop, event: asyncio.Event
    ) -> None:
        with self._lock:
            waiters = self._async_waiters.get(scenario_id)
            if waiters is not None:
                waiters.discard((loop, event))
                if not waiters:
                    del self._async_waiters[scenario_id]

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(w) for w in self._async_waiters.values())


class AsyncSubscription:
    """`async with notifier.subscribe(id) as sub: await sub.wait(timeout)`."""

    def __init__(self, notifier: Notifier, scenario_id: str) -> None:
        self._notifier = notifier
        self._scenario_id = scenario_id
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> AsyncSubscription:
        self._loop = asyncio.get_running_loop()
        self._notifier._add(self._scenario_id, self._loop, self._event)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._notifier._discard(self._scenario_id, self._loop, self._event)

    def wake(self) -> None:
        """Wake the waiter now (from the subscriber's own loop)."""
        self._event.set()

    async def wait(self, timeout: float) -> bool:
        """True if a change was published before `timeout` seconds passed."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True
