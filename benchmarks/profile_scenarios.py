"""Where the server's CPU goes in "11 create+run+complete, HTTP: SQLite / in memory"
(`benchmarks.bench_scenarios`), thread by thread (issues 22/23):

    python -m benchmarks.profile_scenarios [scenarios] [rounds]

Each round starts an in-memory server and a SQLite server (the servers of
`bench_scenarios.http_seconds`), makes `scenarios` scenarios after 20 untimed
ones in the benchmark's pattern (all created, then all run, then polled to their
end), and prints each server's CPU per scenario from /proc (user + system) by
thread: the event loop (`MainThread`: the session lookup, the status poll), the
request threads (`AnyIO worker thread`: the create and run routes), the
dispatcher (the claim), the run threads (the completion), the checkpointer. A
thread's name is read with `py-spy dump` when py-spy is installed, else its id is
shown. CPU time swings with the machine's load as wall time does (see the
docstring of `bench_scenarios`): compare rounds, not single figures.

Then one line per phase of the benchmark's pattern (`PHASES`: the creates, the run
requests, the polls until the last completes): its wall time and the server's CPU
in it, per scenario, in memory / SQLite, by thread. A phase whose CPU is about its
wall time is CPU-bound: one GIL, so the server's threads share one core at most,
and any CPU they spend lengthens the phase; a phase with CPU well below its wall
time waits on the client. What it showed (issue 23, ninth stop; the figures are
in `bench_scenarios`' docstring): the run phase is CPU-bound on SQLite (CPU 2.7-3.6
against 2.8-3.7 ms of wall a scenario) and in memory less so (1.6-1.9 against
2.0-2.4 ms), and SQLite's extra is spread over every thread.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.bench_scenarios import WARMUP, create_run_complete
from benchmarks.common import Server, api

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_THREAD = re.compile(r'Thread (\d+) \(\w+\): "([^"]*)"')


def thread_names(pid: int) -> dict[str, str]:
    """Native thread id -> Python thread name, from `py-spy dump` ({} without it)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return {}
    found = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True)
    return dict(_THREAD.findall(found.stdout))


def thread_seconds(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of each live thread of `pid`, by native id."""
    seconds = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        seconds[task.name] = (int(fields[11]) + int(fields[12])) / _TICK
    return seconds


#: The benchmark's three phases, in order (`bench_scenarios.create_run_complete`).
PHASES = ("create", "run", "drain")


@dataclasses.dataclass
class Phase:
    """One phase of a measured round: its wall time and the server's CPU by thread,
    both in ms per scenario."""

    wall: float
    cpu: dict[str, float]


def cpu_by_phase(n: int, args: list[str]) -> dict[str, Phase]:
    """Each phase's wall time and server CPU (by thread name, numbers dropped), in
    milliseconds per scenario."""
    marks: list[tuple[str, float, dict[str, float]]] = []
    with (
        Server(["--config", "benchmarks.configs:instant_config", *args]) as server,
        api(server) as client,
    ):
        create_run_complete(client, "warm-up ", WARMUP)
        names = thread_names(server.pid)

        def mark(name: str) -> None:
            marks.append((name, time.perf_counter(), thread_seconds(server.pid)))

        create_run_complete(client, "s", n, phase=mark)
        names |= thread_names(server.pid)
    phases = {}
    for (name, start, before), (_, end, after) in itertools.pairwise(marks):
        per: dict[str, float] = collections.defaultdict(float)
        for tid, seconds in after.items():
            thread = re.sub(r"[-_ ]?\d+$", "", names.get(tid, f"thread {tid}"))
            per[thread] += (seconds - before.get(tid, 0.0)) / n * 1e3
        phases[name] = Phase((end - start) / n * 1e3, dict(per))
    return phases


def _total(phases: dict[str, Phase], thread: str | None = None) -> float:
    return sum(
        sum(p.cpu.values()) if thread is None else p.cpu.get(thread, 0.0) for p in phases.values()
    )


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 400
    rounds = int(argv[1]) if len(argv) > 1 else 3
    for number in range(1, rounds + 1):
        memory = cpu_by_phase(n, ["--in-memory"])
        sqlite = cpu_by_phase(n, ["--data-path", "state"])
        threads = {t for p in (*memory.values(), *sqlite.values()) for t in p.cpu}
        names = sorted(threads, key=lambda t: -_total(sqlite, t))
        total_m, total_s = _total(memory), _total(sqlite)
        print(
            f"round {number}, ms of server CPU per scenario, in memory / SQLite: "
            f"all {total_m:.2f} / {total_s:.2f} ({total_s / total_m:.2f}x)"
        )
        for name in names:
            m, s = _total(memory, name), _total(sqlite, name)
            if m + s >= 0.02:
                print(f"  {name:<28} {m:6.2f} / {s:6.2f}")
        # The wall time of each phase against the CPU the server spent in it: a phase
        # whose CPU is about its wall time is CPU-bound (one GIL: one core at most).
        for phase in PHASES:
            m, s = memory[phase], sqlite[phase]
            print(
                f"  {phase:<6} wall {m.wall:5.2f} / {s.wall:5.2f}  "
                f"CPU {sum(m.cpu.values()):5.2f} / {sum(s.cpu.values()):5.2f}: "
                + ", ".join(
                    f"{t} {m.cpu.get(t, 0.0):.2f} / {s.cpu.get(t, 0.0):.2f}"
                    for t in names
                    if m.cpu.get(t, 0.0) + s.cpu.get(t, 0.0) >= 0.02
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
