"""How long `/health` takes while something else happens on the same server.

`HealthProbe` asks `/health` over and over from a process of its own, on a
kept-alive connection and on a new one in turn, and keeps the slowest answer: the
longest the server's event loop was held while the probe ran (what any other
client waited). Used by the tests of hostile requests against a real server and by
`python -m benchmarks.hostile`.

A process, not a thread of the caller's: a thread shares the caller's GIL, so
whatever the caller does in one long C call (`json.dumps` of the 15 MB document a
hostile case sends, openpyxl reading back a 5 MB download) held the probe too and
was counted as the server's. `python -m benchmarks.hostile` put up to 3.7 s on the
server that way for a download whose server side took a fraction of it.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

#: The slowest `/health` may answer while a hostile request is in flight (issue 21).
HEALTH_BOUND_SECONDS = 0.100
T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]


class HealthProbe:
    """`with HealthProbe(base) as probe: ...`; then `probe.worst` (seconds),
    `probe.count` (answers) and `probe.failures` (anything but a 200). The probing
    runs in a child process (`probe_until_told`) from `__enter__` to `__exit__`."""

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        self.base = base
        self.timeout = timeout
        self.worst = 0.0
        self.count = 0
        self.failures: list[str] = []
        self._child: subprocess.Popen[str] | None = None

    def __enter__(self) -> HealthProbe:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "tests.latency", self.base, str(self.timeout)],
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdout is not None
        # At least one answer before the hostile request starts: the probe is running.
        if self._child.stdout.readline().strip() != "probing":
            self._child.kill()
            raise RuntimeError("the /health probe did not start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        child = self._child
        assert child is not None and child.stdin is not None and child.stdout is not None
        child.stdin.close()  # the child's signal to stop
        found = json.loads(child.stdout.read())
        child.wait()
        self.worst, self.count, self.failures = found["worst"], found["count"], found["failures"]


def probe_until_told(base: str, timeout: float) -> None:
    """The child of `HealthProbe`: `/health` over and over until standard input
    closes, then the slowest answer, the count and the failures as JSON on standard
    output (after a line "probing" once the first answer came)."""
    address = urllib.parse.urlsplit(base)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    def ask(connection: http.client.HTTPConnection) -> int:
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        return response.status

    kept = http.client.HTTPConnection(host, port, timeout=timeout)
    fresh, worst, count = False, 0.0, 0
    failures: list[str] = []
    while not stop.is_set():
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, port, timeout=timeout) if fresh else kept
        try:
            status = ask(connection)
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"{type(error).__name__}: {error}")
            status = 0
            if not fresh:
                kept.close()
                kept = http.client.HTTPConnection(host, port, timeout=timeout)
        finally:
            if fresh:
                connection.close()
        worst = max(worst, time.perf_counter() - started)
        count += 1
        if status != 200:
            failures.append(f"status {status}")
        if count == 1:
            print("probing", flush=True)
        fresh = not fresh
        # A little room for the client under test (the machine may have 2 cores).
        stop.wait(0.002)
    print(json.dumps({"worst": worst, "count": count, "failures": failures}), flush=True)


@dataclasses.dataclass
class Held:
    """The slowest `/health` while something ran (`during`) and while nothing did,
    for as long, right after (`idle`: what the machine's own load costs)."""

    during: float
    idle: float
    probes: int
    crowding: float = 1.0
    """Runnable processes per CPU (the 1-minute load average), at least 1: on a
    machine shared that much, every CPU-bound step takes that many times longer."""

    @property
    def added(self) -> float:
        """How much longer than idle the slowest `/health` took."""
        return max(self.during - self.idle, 0.0)

    @property
    def bound(self) -> float:
        """`HEALTH_BOUND_SECONDS` on an idle machine, stretched by `crowding`."""
        return HEALTH_BOUND_SECONDS * self.crowding

    @property
    def within_bound(self) -> bool:
        """`/health` answered within `bound`, or (on a machine loaded so much that
        idle answers take that long) no more than that above idle."""
        return self.during < self.bound or self.added < self.bound


def health_while(base: str, action: Callable[[], T]) -> tuple[Held, T]:
    """Run `action` while probing `/health`, then probe for as long without it."""
    with HealthProbe(base) as during:
        started = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - started
    if during.failures:
        raise AssertionError(f"/health failed meanwhile: {during.failures[:3]}")
    with HealthProbe(base) as idle:
        time.sleep(max(elapsed, 0.2))
    crowding = max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    return Held(during.worst, idle.worst, during.count, crowding), result


if __name__ == "__main__":
    probe_until_told(sys.argv[1], float(sys.argv[2]))
