"""Soak: minutes of mixed traffic against one real server; memory must stay flat.

    python -m benchmarks.soak                  # 5 minutes, the default SQLite store
    python -m benchmarks.soak --seconds 60     # a shorter run
    python -m benchmarks.soak -- --in-memory   # arguments after -- go to `serve`

Not part of ``python -m benchmarks`` nor of the test suite (it takes minutes).

One server process (``algomancy_api serve --example`` in a temporary folder) and
worker threads, each on its own keep-alive connection:

- uploads: the example's two files through the ETL as a new dataset, its table
  list, then the dataset deleted again;
- runs: a scenario created on the example dataset, run, polled until terminal,
  read in full, and deleted;
- events: a scenario run while its SSE stream is followed to the terminal event;
- polls: ``GET …/status`` and ``GET …/scenarios?view=summary`` in a loop;
- sessions: a session created, copied, renamed and deleted.

Every 5 s the server's VmRSS and its number of open file descriptors are sampled.
The run passes when no answer was a 5xx (or a dropped connection), the mean RSS of
the last minute is within 10% of the first minute's, and the open descriptors at
the end (apart from the SQLite files, which each pooled connection holds open and
whose number the thread pool bounds) are not more than in the first minute plus a
small slack for connection churn. The exit code is 0 on a pass, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import PREFIX, ROOT, Server, rss_kib

DATA = ROOT / "algomancy_example" / "data"
DATASET = "Master data"
SAMPLE_EVERY = 5.0
FD_SLACK = 8


def open_fds(pid: int) -> tuple[int, int]:
    """Open descriptors of `pid`: (all, those on SQLite database files)."""
    total = database = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        total += 1
        database += ".sqlite3" in target
    return total, database


class Tally:
    """Answers by kind and status, shared by the workers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: collections.Counter[tuple[str, int]] = collections.Counter()
        self.failures: list[str] = []

    def add(self, kind: str, response: httpx.Response) -> httpx.Response:
        with self.lock:
            self.counts[(kind, response.status_code)] += 1
            if response.status_code >= 500:
                self.failures.append(f"{kind}: {response.status_code} {response.text[:200]}")
        return response

    def broken(self, kind: str, error: Exception) -> None:
        with self.lock:
            self.counts[(kind, 0)] += 1
            self.failures.append(f"{kind}: {type(error).__name__}: {error}")

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    def server_errors(self) -> int:
        return sum(n for (_, status), n in self.counts.items() if status >= 500 or status == 0)


class Worker(threading.Thread):
    def __init__(self, name: str, base: str, tally: Tally, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.base = base
        self.client = httpx.Client(base_url=f"{base}{PREFIX}", timeout=60)
        self.tally = tally
        self.stop_event = stop
        self.round = 0

    def call(self, kind: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.tally.add(kind, self.client.request(method, url, **kwargs))

    def run(self) -> None:
        step = getattr(self, f"step_{self.name.split('-')[0]}")
        while not self.stop_event.is_set():
            self.round += 1
            try:
                step()
            except (httpx.HTTPError, ValueError, KeyError) as error:
                self.tally.broken(self.name, error)
        self.client.close()

    # -- the kinds of traffic -------------------------------------------------------

    def step_uploads(self) -> None:
        key = f"soak-{self.name}-{self.round}"
        files = [
            ("files", ("sku_data.csv", (DATA / "sku_data.csv").read_bytes())),
            ("files", ("inventory.xlsx", (DATA / "inventory.xlsx").read_bytes())),
        ]
        self.call("etl", "POST", "/sessions/main/etl", data={"dataset_name": key}, files=files)
        self.call("tables", "GET", f"/sessions/main/data/{key}/tables")
        self.call("delete dataset", "DELETE", f"/sessions/main/data/{key}")

    def create(self, tag: str, algorithm: str, params: dict[str, Any]) -> str:
        body = {"tag": tag, "dataset_key": DATASET, "algo_name": algorithm, "algo_params": params}
        created = self.call("create", "POST", "/sessions/main/scenarios", json=body)
        return str(created.json()["id"])

    def step_runs(self) -> None:
        tag = f"soak-{self.name}-{self.round}"
        algorithm = ("Random slotting", "ABC slotting")[self.round % 2]
        scenario = self.create(tag, algorithm, {})
        self.call("run", "POST", f"/sessions/main/scenarios/{scenario}/run")
        # At least one status poll per run, even when the soak's time is up by then (a
        # short soak on a crowded machine saw the stop before its first poll).
        while True:
            status = self.call("status", "GET", f"/sessions/main/scenarios/{scenario}/status")
            if status.json()["status"] in ("complete", "failed", "cancelled"):
                break
            if self.stop_event.is_set():
                break
            time.sleep(0.02)
        self.call("scenario", "GET", f"/sessions/main/scenarios/{scenario}")
        self.call("kpis", "GET", "/sessions/main/kpis")
        self.call("delete scenario", "DELETE", f"/sessions/main/scenarios/{scenario}")

    def step_events(self) -> None:
        scenario = self.create(f"soak-{self.name}-{self.round}", "Slow", {"duration": 1})
        self.call("run", "POST", f"/sessions/main/scenarios/{scenario}/run")
        url = f"/sessions/main/scenarios/{scenario}/events"
        with self.client.stream("GET", url) as stream:
            self.tally.add("events", stream)
            for line in stream.iter_lines():
                if line.startswith("data:") and any(
                    f'"{s}"' in line for s in ("complete", "failed", "cancelled")
                ):
                    break
        self.call("delete scenario", "DELETE", f"/sessions/main/scenarios/{scenario}")

    def step_polls(self) -> None:
        listing = self.call("list", "GET", "/sessions/main/scenarios", params={"view": "summary"})
        scenarios = listing.json()
        for item in scenarios[:20]:
            self.call("status", "GET", f"/sessions/main/scenarios/{item['id']}/status")
        self.call("health", "GET", f"{self.base}/health")
        time.sleep(0.01)

    def step_sessions(self) -> None:
        name = f"soak-{self.name}-{self.round}"
        created = self.call("create session", "POST", "/sessions", json={"display_name": name})
        sid = created.json()["session"]["id"]
        copied = self.call(
            "copy session", "POST", f"/sessions/{sid}/copy", json={"new_display_name": name + "c"}
        )
        cid = copied.json()["session"]["id"]
        self.call("rename session", "PATCH", f"/sessions/{cid}", json={"display_name": name + "r"})
        self.call("delete session", "DELETE", f"/sessions/{cid}")
        self.call("delete session", "DELETE", f"/sessions/{sid}")


WORKERS = ["uploads-1", "uploads-2", "runs-1", "runs-2", "events-1", "polls-1", "sessions-1"]


Sample = tuple[float, int, int, int]  # seconds, RSS KiB, open fds, of which database files


def take(server: Server, at: float) -> Sample:
    return (at, rss_kib(server.pid), *open_fds(server.pid))


def sample(server: Server, stop: threading.Event, samples: list[Sample]) -> None:
    start = time.monotonic()
    while not stop.wait(SAMPLE_EVERY):
        samples.append(take(server, time.monotonic() - start))


def window(samples: list[Sample], lo: float, hi: float) -> list[int]:
    return [s[1] for s in samples if lo <= s[0] < hi]


def soak(seconds: float, serve_args: list[str], report: Callable[[str], None]) -> dict[str, Any]:
    with Server(["--example", *serve_args]) as server:
        stop = threading.Event()
        tally = Tally()
        samples: list[Sample] = [take(server, 0.0)]
        sampler = threading.Thread(target=sample, args=(server, stop, samples), daemon=True)
        workers = [Worker(name, server.base, tally, stop) for name in WORKERS]
        sampler.start()
        for worker in workers:
            worker.start()
        began = time.monotonic()
        while (elapsed := time.monotonic() - began) < seconds:
            time.sleep(min(30.0, seconds - elapsed))
            at, rss, fds, database = samples[-1]
            report(
                f"{at:6.0f} s  rss {rss / 1024:7.1f} MiB  fds {fds:4d} ({database:3d} database)  "
                f"requests {tally.requests}  5xx/dropped {tally.server_errors()}"
            )
        stop.set()
        for worker in workers:
            worker.join(timeout=120)
        sampler.join()
        still_up = httpx.get(f"{server.base}/health", timeout=10).status_code == 200
    minute = min(60.0, seconds / 5)
    first = window(samples, 0.0, minute + 0.001) or [samples[0][1]]
    last = window(samples, seconds - minute, seconds + 1.0) or [samples[-1][1]]
    # SQLite files are open once per pooled connection, and the pool grows with the
    # threads that serve requests (bounded by the thread pool): count the others apart.
    other_early = max(s[2] - s[3] for s in samples if s[0] <= minute + 0.001)
    other_end = samples[-1][2] - samples[-1][3]
    rss_first = statistics.mean(first)
    rss_last = statistics.mean(last)
    result: dict[str, Any] = {
        "seconds": seconds,
        "requests": tally.requests,
        "requests_per_s": tally.requests / seconds,
        "server_errors": tally.server_errors(),
        "rss_first_minute_mib": rss_first / 1024,
        "rss_last_minute_mib": rss_last / 1024,
        "rss_peak_mib": max(s[1] for s in samples) / 1024,
        "rss_ratio_last_first": rss_last / rss_first,
        "fds_start": samples[0][2],
        "fds_end": samples[-1][2],
        "fds_peak": max(s[2] for s in samples),
        "database_fds_end": samples[-1][3],
        "other_fds_after_first_minute": other_early,
        "other_fds_end": other_end,
        "still_serving": still_up,
        "by_kind": {f"{kind} {status}": n for (kind, status), n in sorted(tally.counts.items())},
        "failures": tally.failures[:20],
    }
    result["passed"] = (
        result["server_errors"] == 0
        and result["rss_ratio_last_first"] <= 1.10
        and other_end <= other_early + FD_SLACK
        and still_up
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=300.0, help="length (default 300)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("serve_args", nargs="*", help="extra `serve` arguments, after --")
    args = parser.parse_args(argv)
    result = soak(args.seconds, args.serve_args, lambda line: print(line, flush=True))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print("PASS" if result["passed"] else "FAIL")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
