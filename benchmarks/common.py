"""Shared pieces of the benchmarks: settings, result rows, the table, server processes.

Environment variables (all optional):

- ``BENCH_SECONDS``: measured seconds of each load-generator run (default 4).
- ``BENCH_WARMUP``: warm-up seconds before each measured run (default 1).
- ``BENCH_CONNECTIONS``: concurrent keep-alive connections (default 64).
- ``BENCH_CLIENT``: ``raw`` (asyncio streams, default), ``httpx`` (httpx.AsyncClient)
  or ``wrk`` (if installed) for the load generator.
- ``BENCH_SCENARIOS``: scenarios per create/run/complete figure (default 1000).
- ``BENCH_SESSIONS``: sessions for the memory figures (default 10000).
- ``BENCH_CPU_SECONDS``: seconds a CPU-bound scenario spins (default 15 for polling
  under load, 6 for the speed-up figures).
- ``BENCH_ROWS``: rows of the ETL and dataset figures (default 100000).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.server import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "/api/v1"


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


SECONDS = env_float("BENCH_SECONDS", 4.0)
WARMUP = env_float("BENCH_WARMUP", 1.0)
CONNECTIONS = env_int("BENCH_CONNECTIONS", 64)
CLIENT = os.environ.get("BENCH_CLIENT", "raw")


# -- result rows and the table -------------------------------------------------------


@dataclasses.dataclass
class Row:
    """One figure next to its baseline.

    `target` is checked against the ratio (value / baseline) when `on` is
    ``"ratio"``, against the value itself when `on` is ``"value"``.
    """

    figure: str
    value: float
    unit: str = ""
    baseline: float | None = None
    target: float | None = None
    op: str = ">="  # ">=" or "<="
    on: str = "ratio"  # "ratio" or "value"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline or math.isnan(self.value):
            return None
        return self.value / self.baseline

    @property
    def ok(self) -> bool | None:
        if self.target is None:
            return None
        checked = self.ratio if self.on == "ratio" else self.value
        if checked is None or math.isnan(checked):
            return False
        return checked >= self.target if self.op == ">=" else checked <= self.target

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        unit = "x" if self.on == "ratio" else f" {self.unit}"
        op = "≥" if self.op == ">=" else "≤"
        return f"{op} {_num(self.target)}{unit}"


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isnan(value):
        return "nan"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_table(rows: Sequence[Row]) -> str:
    header = ("figure", "value", "baseline", "ratio", "target", "ok")
    body = []
    for row in rows:
        ok = "" if row.ok is None else ("ok" if row.ok else "MISS")
        value = f"{_num(row.value)} {row.unit}".rstrip()
        baseline = f"{_num(row.baseline)} {row.unit}".rstrip() if row.baseline is not None else "-"
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "-"
        body.append((row.figure, value, baseline, ratio, row.target_text, ok))
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for cells in body:
        lines.append(
            "  ".join(
                c.ljust(w) if i in (0, 4, 5) else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )
    notes = [f"- {r.figure}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def run_alone(func: Callable[[], list[Row]]) -> int:
    """`main()` of a benchmark module: run it, print its table, exit 0 either way."""
    rows = func()
    print(format_table(rows))
    return 0


# -- server processes ------------------------------------------------------------------


class Server(ServerProcess):
    """A server process on 127.0.0.1 started by the benchmark and stopped at the end,
    in a temporary folder of its own (the tests' `ServerProcess`, on a port it picks itself).

    `args` are the arguments of ``algomancy_api serve`` (without host and port), or
    `command` a full command with ``{port}`` in place of the port.
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        command: Sequence[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="algomancy-bench-"))
        super().__init__(args, self.tmp, env=env, command=command)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss_kib(self) -> int:
        """VmRSS of the server process (the uvicorn process itself: one worker)."""
        return rss_kib(self.pid)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        code = super().stop(sig, timeout)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return code

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def api(server: Server) -> httpx.Client:
    return httpx.Client(base_url=f"{server.base}{PREFIX}", timeout=120)


def csv_upload(client: httpx.Client, body: bytes) -> Callable[[], None]:
    """A `POST …/etl` of `body` as ``orders.csv`` into dataset ``orders``, failing
    unless the ETL succeeds. The multipart body is encoded once, here, outside any
    timing: a figure is the server's handling of an upload, not httpx building one."""
    encoded = httpx.Request(
        "POST",
        "http://x/",
        data={"dataset_name": "orders"},
        files={"files": ("orders.csv", body, "text/csv")},
    )
    multipart = encoded.read()
    headers = {"content-type": encoded.headers["content-type"]}

    def upload() -> None:
        response = client.post("/sessions/main/etl", content=multipart, headers=headers)
        response.raise_for_status()
        if not response.json()["success"]:
            raise RuntimeError(f"ETL failed: {response.json()['messages'][:3]}")

    return upload


# -- the load generator ------------------------------------------------------------------


@dataclasses.dataclass
class Load:
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float


def load(
    url: str,
    seconds: float | None = None,
    connections: int | None = None,
    warmup: float | None = None,
    max_requests: int = 2_000_000,
    client: str | None = None,
) -> Load:
    """Hammer `url` with GETs from another process (`benchmarks.loadgen`)."""
    seconds = SECONDS if seconds is None else seconds
    command = [
        sys.executable,
        "-m",
        "benchmarks.loadgen",
        url,
        "--seconds",
        str(seconds),
        "--connections",
        str(CONNECTIONS if connections is None else connections),
        "--warmup",
        str(WARMUP if warmup is None else warmup),
        "--max-requests",
        str(max_requests),
        "--client",
        client or CLIENT,
    ]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=seconds * 3 + 60,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr}")
    values: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return Load(**values)


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]
