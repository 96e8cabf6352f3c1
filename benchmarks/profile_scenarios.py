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
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
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


def cpu_by_thread(n: int, args: list[str]) -> dict[str, float]:
    """Milliseconds of server CPU per scenario, by thread name (numbers dropped)."""
    with (
        Server(["--config", "benchmarks.configs:instant_config", *args]) as server,
        api(server) as client,
    ):
        create_run_complete(client, "warm-up ", WARMUP)
        names = thread_names(server.pid)
        before = thread_seconds(server.pid)
        create_run_complete(client, "s", n)
        after = thread_seconds(server.pid)
        names |= thread_names(server.pid)
    per: dict[str, float] = collections.defaultdict(float)
    for tid, seconds in after.items():
        name = re.sub(r"[-_ ]?\d+$", "", names.get(tid, f"thread {tid}"))
        per[name] += (seconds - before.get(tid, 0.0)) / n * 1e3
    return dict(per)


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 400
    rounds = int(argv[1]) if len(argv) > 1 else 3
    for number in range(1, rounds + 1):
        memory = cpu_by_thread(n, ["--in-memory"])
        sqlite = cpu_by_thread(n, ["--data-path", "state"])
        names = sorted(set(memory) | set(sqlite), key=lambda k: -sqlite.get(k, 0.0))
        total_m, total_s = sum(memory.values()), sum(sqlite.values())
        print(
            f"round {number}, ms of server CPU per scenario, in memory / SQLite: "
            f"all {total_m:.2f} / {total_s:.2f} ({total_s / total_m:.2f}x)"
        )
        for name in names:
            m, s = memory.get(name, 0.0), sqlite.get(name, 0.0)
            if m + s >= 0.02:
                print(f"  {name:<28} {m:6.2f} / {s:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
