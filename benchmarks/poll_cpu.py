"""The status poll's server CPU time per request, against the bare FastAPI route's:
the figure of "1 status poll, in memory / bare FastAPI" that a busy machine does not
blur (issue 22).

    python -m benchmarks.poll_cpu [rounds] [seconds] [SOURCE_TREE ...]

Requests per second on a machine shared with other work vary several-fold from one
run to the next; the CPU time the server process spends per answered request
(user + system, from /proc, over a load run, divided by the requests answered) does
not, and its inverse ratio is the throughput ratio whenever the server is CPU-bound.
Each round serves the bare route (`benchmarks.baseline_app`, as `bench_status`
does), then `algomancy-api serve --in-memory` from this tree and from each
`SOURCE_TREE` given (another checkout, e.g. `git archive <commit> | tar -x -C DIR`,
put first on `PYTHONPATH`), each with one complete scenario polled as
`bench_status` polls it. The best (lowest) round counts. Linux only (/proc).
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.bench_status import BARE, CONFIG, create, run_and_wait, status_url
from benchmarks.common import ROOT, Server, api, load


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100


def per_request(server: Server, url: str, seconds: float) -> tuple[float, float]:
    """Microseconds of server CPU per request, and requests per second."""
    load(url, seconds=1, warmup=0.2)
    before = cpu_seconds(server.pid)
    measured = load(url, seconds=seconds, warmup=0)
    spent = cpu_seconds(server.pid) - before
    return spent / max(measured.requests, 1) * 1e6, measured.rps


def ours(tree: str, seconds: float) -> tuple[float, float]:
    command = [sys.executable, "-m", "algomancy_api", "serve", "--config", CONFIG]
    command += ["--in-memory", "--host", "127.0.0.1", "--port", "{port}"]
    with Server(command=command, env={"PYTHONPATH": tree}) as server, api(server) as client:
        scenario_id = create(client, "Instant")
        run_and_wait(client, scenario_id)
        return per_request(server, status_url(server, scenario_id), seconds)


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 3
    seconds = float(argv[1]) if len(argv) > 1 else 5.0
    trees = [str(ROOT), *argv[2:]]
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], **{t: [] for t in trees}}
    for _ in range(rounds):
        with Server(command=BARE) as server:
            url = status_url(server, "00000000-0000-0000-0000-000000000000")
            runs["bare"].append(per_request(server, url, seconds))
        for tree in trees:
            runs[tree].append(ours(tree, seconds))
    bare = min(us for us, _ in runs["bare"])
    for name, measured in runs.items():
        best = min(us for us, _ in measured)
        each = ", ".join(f"{us:.0f} us ({rps:,.0f} req/s)" for us, rps in measured)
        print(f"{name}: {best:.0f} us CPU a request; bare / this {bare / best:.2f}x; {each}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
