"""The session event stream (issue 20).

a. ``GET …/scenarios/{id}/status`` requests/s on one server (SQLite store) with 200
   session streams open, against the same server with none. Target ≥ 0.8x. Also the
   server's memory per open stream (RSS before and after opening them).
b. Latency of a change made on server A as seen on a stream held on server B, two
   processes sharing one SQLite file, then one PostgreSQL database (a cluster the
   benchmark starts itself): p50 and p99 over `CHANGES` scenario creations, from
   the start of the request on A to the event's arrival on B. Target p99 ≤ 1 s.

    python -m benchmarks.bench_session_events
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks import postgres
from benchmarks.bench_status import create, run_and_wait, status_url
from benchmarks.common import PREFIX, Row, Server, api, env_int, load, percentile, run_alone
from tests.server import ServerProcess
from tests.streams import Follower

CONFIG = "benchmarks.configs:instant_config"
STREAMS = env_int("BENCH_STREAMS", 200)
CHANGES = env_int("BENCH_STREAM_CHANGES", 40)


class Streams:
    """`count` session streams held open on raw sockets, on a thread of their own."""

    def __init__(self, server: Server, count: int) -> None:
        self.server = server
        self.count = count
        self.opened = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.main(),))

    async def one(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        writer.write(
            f"GET {PREFIX}/sessions/main/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        )
        await writer.drain()
        while b"event: open" not in await reader.readline():
            pass
        self.opened += 1
        if self.opened == self.count:
            self.ready.set()
        assert self.stop is not None
        drain = asyncio.ensure_future(reader.read(-1))
        await self.stop.wait()
        drain.cancel()
        writer.close()

    async def main(self) -> None:
        self.stop = asyncio.Event()
        await asyncio.gather(*(self.one() for _ in range(self.count)))

    def __enter__(self) -> Streams:
        self.thread.start()
        if not self.ready.wait(120):
            raise TimeoutError(f"only {self.opened} of {self.count} streams opened")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)
        self.loop.close()


def figures_polling() -> list[Row]:
    with Server(["--config", CONFIG, "--data-path", "state"]) as server, api(server) as client:
        scenario_id = create(client, "Instant")
        run_and_wait(client, scenario_id)
        url = status_url(server, scenario_id)
        without = load(url)
        rss_before = server.rss_kib()
        with Streams(server, STREAMS):
            rss_after = server.rss_kib()
            with_streams = load(url)
    per_stream = (rss_after - rss_before) / STREAMS
    name = f"20a status poll, {STREAMS} session streams open / none (SQLite)"
    return [
        Row(name, with_streams.rps, "req/s", without.rps, 0.8),
        Row(f"{name}: p99", with_streams.p99_ms, "ms", without.p99_ms),
        Row("20a server memory per open session stream", per_stream, "KiB"),
    ]


def latencies(a: ServerProcess, b: ServerProcess) -> list[float]:
    """Seconds from a request on A to its event on a stream on B, `CHANGES` times."""
    session = httpx.get(f"{b.base}{PREFIX}/sessions").json()["default"]
    base = f"{a.base}{PREFIX}/sessions/{session}"
    seen: list[float] = []
    with (
        Follower(f"{b.base}{PREFIX}/sessions/{session}/events") as follower,
        httpx.Client(timeout=60) as client,
    ):
        follower.wait_for_event("open")
        for n in range(CHANGES):
            time.sleep(random.uniform(0, 0.3))
            sent = time.monotonic()
            body = {"tag": f"latency {n}", "dataset_key": "Master data", "algo_name": "Instant"}
            made = client.post(f"{base}/scenarios", json=body)
            made.raise_for_status()
            event = follower.wait_for_event("scenario.created", made.json()["id"])
            seen.append(event["received"] - sent)
    return seen


def two_servers(args: list[str]) -> list[float]:
    folder = Path(tempfile.mkdtemp(prefix="algomancy-bench-events-"))
    command = ["--config", CONFIG, "--no-ui", *args]
    with ServerProcess(command, folder) as a, ServerProcess(command, folder) as b:
        return latencies(a, b)


def latency_rows(store: str, seen: list[float]) -> list[Row]:
    name = f"20b change on server A seen on B's stream, {store}"
    return [
        Row(f"{name}: p50", percentile(seen, 0.5), "s"),
        Row(f"{name}: p99", percentile(seen, 0.99), "s", target=1.0, op="<=", on="value"),
    ]


def figures_latency() -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="algomancy-bench-events-"))
    rows = latency_rows("SQLite", two_servers(["--data-path", str(folder)]))
    if not postgres.available():
        return [*rows, Row("20b PostgreSQL", float("nan"), note="no PostgreSQL")]
    with postgres.postgres_cluster() as cluster:
        seen = two_servers(["--database-url", cluster.new_database()])
    return [*rows, *latency_rows("PostgreSQL", seen)]


def run() -> list[Row]:
    return figures_polling() + figures_latency()


if __name__ == "__main__":
    sys.exit(run_alone(run))
