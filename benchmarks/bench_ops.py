"""The cost of metrics on status polls (issue 28).

``GET …/status`` requests/s on one server process (in memory) with metrics on and
tracing off (the defaults), against the same server with both off. Target ≥ 0.9x.
Tracing off installs and imports nothing (`algomancy_api.tracing`), so the
metrics-only server is also the figure of "tracing off". Each server is measured
`ROUNDS` times, in turn, and the best round counts (as in `bench_status`).

On a busy machine the rates swing by tens of percent from round to round; the
server's CPU time per request (user + system, from /proc, the warm-up included
alike for both) is the steadier figure of what metrics cost.

    python -m benchmarks.bench_ops
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from benchmarks.bench_status import create, run_and_wait, status_url
from benchmarks.common import Load, Row, Server, api, env_int, load, run_alone

ROUNDS = env_int("BENCH_OPS_ROUNDS", 3)
CONFIGS = {
    "both off": "benchmarks.configs:no_metrics_config",
    "metrics on": "benchmarks.configs:instant_config",
}


@dataclasses.dataclass
class Polled:
    load: Load
    #: Server CPU microseconds per answered request.
    cpu_us: float


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def poll(config: str) -> Polled:
    with Server(["--config", config, "--in-memory"]) as server, api(server) as client:
        scenario_id = create(client, "Instant")
        run_and_wait(client, scenario_id)
        if config == CONFIGS["metrics on"]:
            assert client.get(f"{server.base}/metrics").status_code == 200
        before = cpu_seconds(server.pid)
        measured = load(status_url(server, scenario_id))
        used = cpu_seconds(server.pid) - before
        return Polled(measured, used / max(1, measured.requests) * 1e6)


def run() -> list[Row]:
    polled: dict[str, list[Polled]] = {name: [] for name in CONFIGS}
    for _ in range(ROUNDS):
        for name, config in CONFIGS.items():
            polled[name].append(poll(config))
    rounds = {name: [p.load for p in runs] for name, runs in polled.items()}
    cpu = {name: min(p.cpu_us for p in runs) for name, runs in polled.items()}
    best = {name: max(runs, key=lambda r: r.rps) for name, runs in rounds.items()}
    notes = "; ".join(
        f"{name}: {', '.join(f'{r.rps:,.0f}' for r in runs)} req/s" for name, runs in rounds.items()
    )
    name = "28 status poll, metrics on (tracing off) / both off"
    on, off = best["metrics on"], best["both off"]
    return [
        Row(name, on.rps, "req/s", off.rps, 0.9, note=f"best of {ROUNDS} rounds ({notes})"),
        Row(f"{name}: p50", on.p50_ms, "ms", off.p50_ms),
        Row(f"{name}: p99", on.p99_ms, "ms", off.p99_ms),
        Row(
            f"{name}: server CPU per request",
            cpu["metrics on"],
            "µs",
            cpu["both off"],
            note="least of the rounds; includes the warm-up's requests alike",
        ),
    ]


if __name__ == "__main__":
    sys.exit(run_alone(run))
