"""Many sessions: server memory and list latency (issue 7 figure 6), and the memory
of empty sessions in process (issues 3, 5, 6: figure 7).

6, 11. A server (in memory, then on SQLite, the default) with 1 session, then with
   up to `BENCH_SESSIONS` (10,000) created by ``POST /sessions``: VmRSS of the
   server process, the p50 latency of ``GET /sessions`` over 20 calls (target
   ≤ 5 ms at 10,000), the mean latency of the last 100 ``POST /sessions?limit=1``
   against the first 100, and the time to create them all on SQLite (target ≤ 30 s).
   Creation stops after `BENCH_SESSIONS_SECONDS` (default 60 s) so that the run
   stays bounded; the table says how many sessions were made.
7. In process: `SessionManager.create_session` 10,000 times; memory by tracemalloc
   (Python allocations; an RSS delta inside the suite's long-lived process is
   meaningless, freed arenas are reused).

    python -m benchmarks.bench_sessions
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import sys
import time
import tracemalloc

import httpx

from algomancy_core import CoreConfig, SessionManager
from benchmarks.common import Row, Server, api, env_float, env_int, percentile, run_alone
from benchmarks.configs import many_sessions_config

N = env_int("BENCH_SESSIONS", 10_000)
BUDGET = env_float("BENCH_SESSIONS_SECONDS", 60.0)


def list_p50(client: httpx.Client, calls: int = 20) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        client.get("/sessions").raise_for_status()
        times.append(time.perf_counter() - start)
    return percentile(times, 0.5) * 1e3


@dataclasses.dataclass
class Many:
    """A server taken from 1 session to up to `N`."""

    count: int
    seconds: float
    one_p50: float
    many_p50: float
    rss_one: int
    rss_many: int
    post_ms: list[float]


def fill_server(args: list[str]) -> Many:
    with (
        Server(["--config", "benchmarks.configs:many_sessions_config", *args]) as server,
        api(server) as client,
    ):
        one_p50 = list_p50(client)
        rss_one = server.rss_kib()
        post_ms: list[float] = []
        started = time.perf_counter()
        deadline = time.monotonic() + BUDGET
        for i in range(1, N):
            start = time.perf_counter()
            # `?limit=1`: the answer carries one session of the list, not all of them
            # (whole, the answers alone would grow to 700 KB each by the end).
            client.post(
                "/sessions", params={"limit": 1}, json={"display_name": f"bench {i}"}
            ).raise_for_status()
            post_ms.append((time.perf_counter() - start) * 1e3)
            if time.monotonic() > deadline:
                break
        seconds = time.perf_counter() - started
        return Many(
            len(post_ms) + 1,
            seconds,
            one_p50,
            list_p50(client),
            rss_one,
            server.rss_kib(),
            post_ms,
        )


def server_rows() -> list[Row]:
    memory = fill_server(["--in-memory"])
    sqlite = fill_server(["--data-path", "state"])
    rows = []
    for label, many in (("in memory", memory), ("SQLite", sqlite)):
        note = (
            f"{many.count:,} of {N:,} sessions created in the {BUDGET:.0f} s budget"
            if many.count < N
            else f"{many.count:,} sessions"
        )
        per_session = (many.rss_many - many.rss_one) / max(1, many.count - 1)
        rows += [
            Row(
                f"6 server RSS, {label}, {many.count:,} sessions / 1 session",
                many.rss_many / 1024,
                "MiB",
                many.rss_one / 1024,
                note=f"{note}; {per_session:.1f} KiB per session",
            ),
            Row(
                f"6/11 GET /sessions p50, {label}, {many.count:,} sessions / 1 session",
                many.many_p50,
                "ms",
                many.one_p50,
                5.0,
                op="<=",
                on="value",
            ),
            Row(
                f"6 POST /sessions mean, {label}, last 100 / first 100 (of {many.count:,})",
                statistics.fmean(many.post_ms[-100:]),
                "ms",
                statistics.fmean(many.post_ms[:100]),
            ),
        ]
    rows.append(
        Row(
            f"11 {N:,} sessions by POST /sessions, SQLite (baseline in memory)",
            sqlite.seconds if sqlite.count >= N else float("nan"),
            "s",
            memory.seconds if memory.count >= N else None,
            30.0,
            op="<=",
            on="value",
            note="" if sqlite.count >= N else f"only {sqlite.count:,} in {BUDGET:.0f} s",
        )
    )
    return rows


def in_process_rows() -> list[Row]:
    config = CoreConfig(**many_sessions_config())  # type: ignore[arg-type]
    with SessionManager(config) as sessions:
        gc.collect()
        tracemalloc.start()
        before, _ = tracemalloc.get_traced_memory()
        start = time.perf_counter()
        for i in range(1, N):
            sessions.create_session(f"bench {i}")
        seconds = time.perf_counter() - start
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        count = len(sessions.list_sessions())
    traced_kib = (after - before) / 1024
    return [
        Row(
            f"7 in process: Python memory of {count - 1:,} more empty sessions (tracemalloc)",
            traced_kib / 1024,
            "MiB",
            note=f"{traced_kib / (count - 1):.2f} KiB per session; created in {seconds:.1f} s "
            "(under tracemalloc)",
        ),
    ]


def run() -> list[Row]:
    return in_process_rows() + server_rows()


if __name__ == "__main__":
    sys.exit(run_alone(run))
