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

Findings (issue 22, 2026-12-06, helper pollgap; 2 shared cores, load 0.3-8):
there is no large cost of ours outside the ASGI app. The "~178 us outside the app
against ~124 us" came from subtracting the app's in-process cost
(`benchmarks.profile_poll whole`: poll 80 us, bare FastAPI app 48 us) from the
server's CPU per request (poll ~255, bare ~175 us here), i.e. from assuming the app
costs as much served as in a hot in-process loop. It does not: served, every layer
runs colder, between uvicorn's parser and the load generator on the same cores.

* py-spy (`record --native -r 200`, 6 s, during `benchmarks.loadgen` on each
  server, two runs, samples of the event-loop thread, idle `epoll_pwait` left out):
  `FastAPI.__call__` holds 92% / 80% of the bare server's CPU and 89% / 95% of
  ours, so the app served costs ~2.5-3.2x its in-process figure in both servers
  alike. Outside the app: bare ~14 / ~35 us, ours ~32 / ~12 us a request; which
  server spends more there changes from run to run (the first run put +16 us on
  `HttpToolsWithDeadline.data_received` in `algomancy_api.slowclients`, the second
  1.7% of ours against 6.9% of the bare server's): no repeatable extra. Repeatable
  in both runs: `solve_dependencies`, 30% of ours (~80-90 us served) against 11%
  of the bare route's (~17-19 us).
* Per-thread CPU (/proc/PID/task, 4 s of load): all of it on the event-loop
  thread in both servers (ours has 11 threads: dispatcher, study driver, anyio
  workers; none spends a measurable tick per request). Idle: 3.3 ms/s in both.
* A/B in one run, each variant of ours against the bare server (a wrapper that
  patches `algomancy_api` before `main`, 2-3 rounds of 3 s, best round, us of CPU a
  request): as shipped 253 / 255 / 274; uvicorn's own `httptools` protocol instead
  of `HttpToolsWithDeadline` 250 / 269; access log off (`uvicorn.access` at
  WARNING) 254; no request-id record factory 249; `gc.disable()` after
  `gc.freeze()` 248; `RequestMetrics.record` a no-op 238 / 265 / 272;
  `sys.setswitchinterval(1.0)` 272; bare 169-182 (same runs). None is outside the
  spread of repeated rounds (~20 us on this machine): suspects (1)-(3) of the brief are not
  where the gap is. (4): both run uvloop + httptools with uvicorn's defaults except
  ours `proxy_headers=False` (less work than the bare server's default) and
  `ws="none"`; (5): no asyncio debug, and a kept-alive connection is reused (curl).
  py-spy's first run put ~60 us a request on prometheus'
  `MetricWrapperBase._is_observable` (a one-line attribute test; inc + observe
  take 1.9 us in `timeit`); its second run 1.6% on all of `RequestMetrics.record`,
  and the no-op A/B gains nothing: a sampling artifact (py-spy --native stops the
  process to unwind), not cost. Trust shares that repeat, not one profile.

So the ratio is the app's: modelled as served = k * in-process + outside, the two
servers give k ~2.5 and ~55 us outside for both (the py-spy shares give k ~2.9-3.3).
For 0.8x the poll must cost at most ~219 us served, i.e. ~66 us in process (1.37x the
bare FastAPI app, from 80 us / 1.66x now): the work is in the app, where py-spy shows
`solve_dependencies` (the poll's CallerDep and get_scenario_manager dependencies,
~80-90 vs ~17-19 us served, in both runs) as the largest extra: resolving them
without FastAPI's per-request dependency solving is where 0.8x can come from. The
poll's route has one sub-dependency (`current_caller`), so `solve_dependencies`
runs twice a request; FastAPI 0.165 recomputes each sub-dependency's cache key
every request (`fastapi.dependencies.models._get_cache_key`: scopes walk and
`inspect.unwrap`), 3.6 us of the 80 in process by `timeit` on the route's dependant
(~10 us served); the rest is its parameter solving (`request_params_to_args`) and the
nested call.

Then (issue 22, 2026-12-06, helper cheappoll): the poll route swapped before the
app is built (best of 30 interleaved rounds of 200 in-process calls, three runs)
put the caller's nested solve at ~12 us of ~72, and no declaration of the
dependency changed it (`HTTPConnection`, no parameter, `scope="function"`,
`use_cache=False`); the same poll with no caller at all cost 1.26-1.44x the bare
app. `algomancy_api.leafdeps.ConnectionDependencyRoute` now calls such a
connection-only dependency without the nested solve (1.72-1.80x -> 1.42-1.46x in
those runs; `profile_poll 3000 whole`, before/after trees alternating: 1.75x / 1.72x
-> 1.31x / 1.50x). This benchmark, this tree against the previous commit's
(`python -m benchmarks.poll_cpu 3 3 OLD_TREE`), five runs at load 6-10, the first
three before the poll's route went ahead of `/openapi.json` and metrics kept their
series by route: 0.75x / 0.77x / 0.69x / 0.80x / 0.67x against 0.73x / 0.68x /
0.67x / 0.73x / 0.66x (ours 229-251 us against 236-285 us a request): better in every
run, and still short of 0.8x on this loaded machine.

Then (issue 22, 2026-12-06, helper poll2): in process, each layer timed from the
outside in (40 interleaved rounds of 200 calls, best round), the poll was ~64-71 us
against ~44-47 us for the bare app: `AnswerLayer` ~9 us (its `RequestMetrics.record`
~2.4 us by `timeit`, `RequestIds.begin` ~2.3 us, the security headers and the send
wrapper the rest), `Chain` ~2-4 us (its seven `passes` ~1.3 us by `timeit`), and
inside the route ~13 us more than a bare route's, of which FastAPI's
`solve_dependencies` for the poll's two plain `str` path parameters 17.1 us against
12.7 us for the bare route's one, the endpoint ~4 us, the response model ~0.7 us.
`ConnectionDependencyRoute` now takes plain text path parameters from the path
(`algomancy_api.leafdeps`): in process 1.42-1.59x -> 1.12-1.27x the bare app. This
benchmark, `python -m benchmarks.poll_cpu 3 3 OLD_TREE` (the tree before), three
runs at load 5-6: 0.83x / 0.85x / 0.76x against 0.73x / 0.70x / 0.68x (ours 199-210
us against 223-244 us a request); `benchmarks.bench_status` twice: 0.92x, 0.93x
(the tree before, once: 0.53x). A serial request id alone (`begin` 2.3 -> 1.1 us)
did not show beside the spread of a whole poll (~3 us in process, three A/B pairs);
with `RequestMetrics.record` on the values behind prometheus-client's calls (2.4 ->
1.1 us) it did, barely: lower in 7 of 7 pairs, mean 1.13x -> 1.10x the bare app
(`algomancy_api.middleware.metrics`). On SQLite, the poll's SELECT is skipped while
the file is unchanged (`KeptProgress`, `algomancy_core.stores.sql.reads`).
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
