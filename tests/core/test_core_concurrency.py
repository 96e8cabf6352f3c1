"""Many threads creating, running and polling scenarios in several sessions."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from algomancy_core import ScenarioStatus, SessionManager

from .conftest import make_config

THREADS = 16
PER_THREAD = 25
SESSIONS = 4


def test_no_lost_or_duplicated_scenarios() -> None:
    runs_seen: dict[str, int] = {}
    seen_lock = threading.Lock()
    with SessionManager(make_config(max_workers=4)) as sessions:
        names = [f"s{i}" for i in range(SESSIONS)]
        for name in names:
            sessions.create_session(name)
        original = sessions.runtime.dispatcher._start

        def counting_start(records):  # type: ignore[no-untyped-def]
            with seen_lock:
                for record in records:
                    runs_seen[record.id] = runs_seen.get(record.id, 0) + 1
            original(records)

        sessions.runtime.dispatcher._start = counting_start  # type: ignore[method-assign]

        def worker(n: int) -> list[str]:
            manager = sessions.get_session(names[n % SESSIONS])
            ids = []
            for i in range(PER_THREAD):
                record = manager.create_scenario(f"t{n}-{i}", "Master data", "Instant")
                manager.run_scenario(record.id)
                manager.get_scenario(record.id)  # poll while others write
                ids.append(record.id)
            return ids

        with ThreadPoolExecutor(THREADS) as pool:
            created = [i for ids in pool.map(worker, range(THREADS)) for i in ids]

        finished = []
        for name in names:
            manager = sessions.get_session(name)
            for record in manager.list_scenarios():
                finished.append(manager.wait(record.id, timeout=60))

    assert len(created) == len(set(created)) == THREADS * PER_THREAD
    assert sorted(r.id for r in finished) == sorted(created)
    assert all(r.status is ScenarioStatus.COMPLETE for r in finished)
    assert all(r.kpis == {"total": 6.0} for r in finished)
    assert runs_seen == dict.fromkeys(created, 1)  # each ran exactly once
    tags = [r.tag for r in finished]
    assert len(tags) == len(set(tags))
