"""Where the time of a CSV ETL upload goes, stage by stage (issue 23):

    python -m benchmarks.profile_etl_upload [uploads] [memory|sqlite]

Starts a server as ``python -m benchmarks.etl_csv`` does (`benchmarks.configs:etl_config`,
in memory, or over SQLite with the ETL in its child process), with wrappers around
the stages of ``POST …/etl``: the form parse (the body received), the ETL thread,
``CSVFile.read``, ``coerce_table``, the store and, over SQLite, the hand-over to the
child and its answer; the ETL child is started through this module too, with the
same around its read, ``to_arrow_bytes``, the content digest and its answer. Each
stage logs its start and end on ``perf_counter`` (one clock for every process, so
that they line up with the client's start of each upload) and the CPU time of its
thread (``process`` for the child's read: Arrow reads on threads of its own).

Prints, per stage, medians over `uploads` (default 20) of its start after the
client's, its wall time and its CPU time, after the client's total and
``pandas.read_csv`` of the same bytes (what the figure of `benchmarks.etl_csv` is
against). The wrappers cost a few microseconds per stage: against stages of
milliseconds, nothing. The tables of `benchmarks.etl_csv`'s docstring (csvhttp
stop) were made with its scratch predecessor.
"""

from __future__ import annotations

import collections
import functools
import inspect
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_LOG: Any = None


def _event(name: str, start: float, cpu: float) -> None:
    _LOG.write(f"{name} {start:.6f} {time.perf_counter():.6f} {cpu * 1e3:.3f}\n")


def _wrap(owner: Any, attribute: str, name: str, clock: Callable[[], float]) -> None:
    function = getattr(owner, attribute)
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            start, cpu = time.perf_counter(), clock()
            try:
                return await function(*args, **kwargs)
            finally:
                _event(name, start, clock() - cpu)

        setattr(owner, attribute, timed_async)
        return

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start, cpu = time.perf_counter(), clock()
        try:
            return function(*args, **kwargs)
        finally:
            _event(name, start, clock() - cpu)

    setattr(owner, attribute, timed)


def _open_log(path: str) -> None:
    global _LOG
    _LOG = open(path, "a", buffering=1)  # noqa: SIM115 - open while the process runs


def serve(log: str, argv: list[str]) -> int:
    """The server, its stages wrapped; its ETL child started by `child`."""
    import multiprocessing.connection
    import socket
    import subprocess

    import algomancy_api.etlchild as etlchild
    import algomancy_api.routers.etl as etl_route
    import algomancy_api.uploadform as uploadform
    import algomancy_core.session_datasets as session_datasets
    import algomancy_data.answers as answers
    import algomancy_data.etl as etl
    import algomancy_data.files as files
    import algomancy_data.parsepool as parsepool
    from algomancy_api.cli import main

    _open_log(log)
    thread = time.thread_time
    _wrap(uploadform.HeldFileRequest, "_get_form", "server: body received and parsed", thread)
    _wrap(etl_route, "_etl", "server: ETL thread (in memory)", thread)
    _wrap(etl_route, "_etl_in_child", "server: ETL thread (child)", thread)
    _wrap(files.CSVFile, "read", "server: CSVFile.read", thread)
    _wrap(etl, "coerce_table", "server: coerce_table", thread)
    _wrap(session_datasets.SessionDatasets, "add_dataset", "server: store (digest)", thread)
    _wrap(answers, "recv_answer", "server: recv_answer", thread)
    etlchild.recv_answer = answers.recv_answer

    def start_child(self: Any) -> None:
        ours, theirs = socket.socketpair()
        with theirs:
            command = [sys.executable, "-m", __spec__.name, "--child", log, str(theirs.fileno())]
            self.process = subprocess.Popen(
                command,
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=parsepool._child_environment(),
            )
        self.connection = multiprocessing.connection.Connection(ours.detach())
        self.tasks = 0

    parsepool._Worker.__init__ = start_child  # type: ignore[method-assign]
    return int(main(argv) or 0)


def child(log: str, fd: int) -> None:
    """The ETL child, its stages wrapped."""
    from multiprocessing.connection import Connection

    import algomancy_api.etlchild as etlchild
    import algomancy_data.answers as answers
    import algomancy_data.datasource as datasource
    import algomancy_data.digest as digest
    import algomancy_data.etl as etl
    import algomancy_data.extractors as extractors
    import algomancy_data.files as files
    import algomancy_data.parseworker as parseworker

    _open_log(log)
    thread, process = time.thread_time, time.process_time
    _wrap(etlchild, "_etl", "child: whole task", process)
    _wrap(etlchild, "_factory", "child: ETL factory built", thread)
    _wrap(extractors, "file_for", "child: file_for", thread)
    _wrap(files.CSVFile, "read", "child: CSVFile.read (all threads)", process)
    _wrap(etl, "coerce_table", "child: coerce_table", thread)
    _wrap(datasource.DataSource, "to_arrow_bytes", "child: to_arrow_bytes", thread)
    _wrap(digest, "content_digest", "child: content digest", thread)
    _wrap(answers, "send_answer", "child: send_answer", thread)
    parseworker.send_answer = answers.send_answer
    parseworker.serve(Connection(fd))


def profile(uploads: int, store: str) -> None:
    import httpx  # noqa: F401 - the client's import, before the timing
    import pandas as pd

    from benchmarks.bench_etl import make_frame
    from benchmarks.common import Server, api, csv_upload

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        make_frame(100_000).to_csv(path, index=False)
        body = path.read_bytes()
        log = str(Path(tmp) / "stages.log")
        store_args = ["--in-memory"] if store == "memory" else ["--data-path", "state"]
        command = [sys.executable, "-m", __spec__.name, "--serve", log, "serve"]
        command += ["--config", "benchmarks.configs:etl_config", *store_args]
        command += ["--host", "127.0.0.1", "--port", "{port}"]
        with Server(command=command) as server, api(server) as client:
            upload = csv_upload(client, body)
            upload()
            upload()  # the child started, the first upload stored
            Path(log).write_text("")
            runs, baseline = [], []
            for _ in range(uploads):
                start = time.perf_counter()
                upload()
                runs.append((start, time.perf_counter()))
                start = time.perf_counter()
                pd.read_csv(io.BytesIO(body))
                baseline.append(time.perf_counter() - start)
        lines = Path(log).read_text().splitlines()
    stages: dict[str, dict[str, list[float]]] = collections.defaultdict(
        lambda: collections.defaultdict(list)
    )
    for line in lines:
        name, start_text, end_text, cpu_text = line.rsplit(" ", 3)
        start, end = float(start_text), float(end_text)
        for began, ended in runs:
            if began <= start <= ended:
                stages[name]["start"].append((start - began) * 1e3)
                stages[name]["wall"].append((end - start) * 1e3)
                stages[name]["cpu"].append(float(cpu_text))
                break
    median = statistics.median
    print(f"{uploads} uploads over {store}, load average {os.getloadavg()[0]:.1f}")
    print(f"client's whole upload: {median((e - b) * 1e3 for b, e in runs):.1f} ms")
    print(f"pandas.read_csv of the same bytes: {median(baseline) * 1e3:.1f} ms")
    print(f"{'stage':40s} {'starts at':>10s} {'wall':>8s} {'CPU':>8s}  (ms, medians)")
    for name, values in sorted(stages.items(), key=lambda item: median(item[1]["start"])):
        start, wall, cpu = (median(values[k]) for k in ("start", "wall", "cpu"))
        print(f"{name:40s} {start:10.2f} {wall:8.2f} {cpu:8.2f}")


def run(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        return serve(argv[1], argv[2:])
    if argv[:1] == ["--child"]:
        child(argv[1], int(argv[2]))
        return 0
    uploads = int(argv[0]) if argv else 20
    store = argv[1] if len(argv) > 1 else "memory"
    if store not in ("memory", "sqlite"):
        raise SystemExit("usage: python -m benchmarks.profile_etl_upload [uploads] [memory|sqlite]")
    profile(uploads, store)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
