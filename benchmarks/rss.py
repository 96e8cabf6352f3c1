"""Server memory at rest and after a CSV ETL upload (issue 23, "light at rest").

Starts the real server (``python -m algomancy_api serve``, SQLite store in a temporary
folder) and reads the server process's VmRSS from ``/proc/<pid>/status``:

- at rest: once ``/health`` answers and the RSS has settled (the same reading twice
  in a row, 0.2 s apart, for at most `SETTLE_SECONDS`). Target ≤ 110 MiB.
- after a ``POST …/etl`` and a settle: within 20 MiB of the rest figure.
  VmHWM (the peak) is in the note.

Three servers: ``serve --example`` (the warehouse domain, uploading its own
``sku_data.csv`` and ``inventory.xlsx``: its ETL needs both), and
`benchmarks.configs:light_config`, a domain that imports no pandas itself
(uploading a generated `BENCH_RSS_ROWS`-row CSV, default 20,000), so that the
library's own weight shows apart from the domain's; and ``serve --example`` restarted
over the data of a first start (at rest only: the first start's ETL of the sample
files is what imports pandas).

Before and after the ETL child process (`algomancy_api.etlchild`, issue 23), one run
each on the shared 2-core machine (load average 5-10):

| row | before | after |
|---|---|---|
| at rest, ``serve --example`` | 86.9 MiB | 87.1 MiB |
| after an upload minus at rest, ``serve --example`` | +97.8 MiB (184.7 MiB) | +5.4 MiB (92.5 MiB) |
| at rest, restarted over its data | 87.0 MiB | 87.0 MiB |
| at rest, light_config | 87.5 MiB | 87.6 MiB |
| after an upload minus at rest, light_config | +109.2 MiB (196.6 MiB) | +7.9 MiB (95.5 MiB) |

What the difference was, read in one interpreter with the app under a TestClient
(light_config over SQLite, the same 0.73 MB upload; ``/proc/self/smaps`` Rss summed by
mapping, and tracemalloc over the upload): with the ETL in the server, RSS +160 MiB,
of which the mapped pandas (90.5 MiB), pyarrow/libarrow (34.5 MiB) and numpy (10.6 MiB)
files, +23 MiB of anonymous memory (the frames' freed pages glibc keeps) and 33 MiB
of Python heap kept (24 MiB of it the imported modules' code objects); with the ETL in
the child, RSS +17.6 MiB, no pandas, pyarrow or numpy mapping, +17.6 MiB anonymous
(thread arenas, the client's own body and answer in that process) and 2 MiB of Python
heap kept. The ETL, the digest and the Arrow payload are now made in the child; the
server holds a `PackedDataSource` (bytes) only while storing it.

    python -m benchmarks.rss
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import Row, Server, api, env_int, run_alone

ROWS = env_int("BENCH_RSS_ROWS", 20_000)
REST_TARGET_MIB = 110.0
AFTER_UPLOAD_TARGET_MIB = 20.0
SETTLE_SECONDS = 10.0


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


def settled_rss_kib(pid: int) -> int:
    """VmRSS once two readings 0.2 s apart are within 256 KiB (or after `SETTLE_SECONDS`)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    last = status_kib(pid, "VmRSS")
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = status_kib(pid, "VmRSS")
        if abs(now - last) <= 256:
            return now
        last = now
    return last


def light_csv(rows: int) -> bytes:
    """A CSV of the `light_config` schema: integer, text, float and date columns."""
    lines = ["order_id,sku,quantity,price,order_date"]
    lines += [
        f"{i},SKU-{i % 5000:06d},{i % 97 + 1},{(i % 1000) / 10:.2f},2024-{i % 12 + 1:02d}-15"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def measure(label: str, args: Sequence[str], files: Sequence[tuple[str, bytes]]) -> list[Row]:
    with Server(args) as server, api(server) as client:
        rest = settled_rss_kib(server.pid)
        response = client.post(
            "/sessions/main/etl",
            data={"dataset_name": "uploaded"},
            files=[("files", (name, body, "application/octet-stream")) for name, body in files],
        )
        response.raise_for_status()
        if not response.json()["success"]:
            raise RuntimeError(f"ETL failed: {response.json()['messages'][:3]}")
        after = settled_rss_kib(server.pid)
        peak = status_kib(server.pid, "VmHWM")
    size = sum(len(body) for _, body in files)
    return [
        Row(
            f"RSS at rest, {label}",
            rest / 1024,
            "MiB",
            target=REST_TARGET_MIB,
            op="<=",
            on="value",
        ),
        Row(
            f"RSS after an ETL upload ({size / 1e6:.2f} MB) minus at rest, {label}",
            (after - rest) / 1024,
            "MiB",
            target=AFTER_UPLOAD_TARGET_MIB,
            op="<=",
            on="value",
            note=f"{after / 1024:.1f} MiB after, peak (VmHWM) {peak / 1024:.1f} MiB",
        ),
    ]


def restarted_at_rest() -> list[Row]:
    """``serve --example`` started a second time over the data of a first (its `main`
    session and initial datasets stored): what a deployed server restarts to. The
    first start imports pandas to put the sample files through the ETL."""
    with tempfile.TemporaryDirectory() as folder:
        args = ["--example", "--data-path", folder]
        with Server(args):
            pass
        with Server(args) as server:
            rest = settled_rss_kib(server.pid)
    return [
        Row(
            "RSS at rest, serve --example restarted over its data",
            rest / 1024,
            "MiB",
            target=REST_TARGET_MIB,
            op="<=",
            on="value",
        )
    ]


def run() -> list[Row]:
    from algomancy_example import sample_file
    from algomancy_example.domain import SAMPLE_FILES

    # The example's ETL needs both of its files (the workbook is parsed in a child).
    samples = [(name, sample_file(name).read_bytes()) for name in SAMPLE_FILES]
    light = measure(
        "a domain without pandas (light_config)",
        ["--config", "benchmarks.configs:light_config", "--data-path", "state"],
        [("orders.csv", light_csv(ROWS))],
    )
    return [*measure("serve --example", ["--example"], samples), *restarted_at_rest(), *light]


if __name__ == "__main__":
    sys.exit(run_alone(run))
