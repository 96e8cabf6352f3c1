"""How long `/health` takes while something else happens on the same server.

`HealthProbe` asks `/health` over and over from a thread, on a kept-alive
connection and on a new one in turn, and keeps the slowest answer: the longest the
server's event loop was held while the probe ran (what any other client waited).
Used by the tests of hostile requests against a real server and by
`python -m benchmarks.hostile`.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import httpx

#: The slowest `/health` may answer while a hostile request is in flight (issue 21).
HEALTH_BOUND_SECONDS = 0.100
T = TypeVar("T")


class HealthProbe:
    """`with HealthProbe(base) as probe: ...`; then `probe.worst` (seconds),
    `probe.count` (answers) and `probe.failures` (anything but a 200)."""

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        self.base = base
        self.timeout = timeout
        self.worst = 0.0
        self.count = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=self.timeout) as kept:
            fresh = False
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    if fresh:
                        status = httpx.get(f"{self.base}/health", timeout=self.timeout).status_code
                    else:
                        status = kept.get("/health").status_code
                except httpx.HTTPError as error:
                    self.failures.append(f"{type(error).__name__}: {error}")
                    status = 0
                elapsed = time.perf_counter() - started
                self.worst = max(self.worst, elapsed)
                self.count += 1
                if status != 200:
                    self.failures.append(f"status {status}")
                fresh = not fresh
                # A little room for the client under test (the machine may have 2 cores).
                self._stop.wait(0.002)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        # At least one answer before the hostile request starts: the probe is running.
        while self.count == 0 and self._thread.is_alive():
            time.sleep(0.001)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()


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
