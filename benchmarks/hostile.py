"""Hostile input against one real server: the answer each gets and the memory it costs.

    python -m benchmarks.hostile                 # the default SQLite store
    python -m benchmarks.hostile -- --in-memory  # arguments after -- go to `serve`

Not part of ``python -m benchmarks`` nor of the test suite (the tests in
tests/api/test_api_hostile.py and tests/data/test_data_limits.py check the
answers; this prints what a hostile client sees from outside, with the cost).

Before each input the server's peak-RSS mark is reset (``/proc/PID/clear_refs``,
``5``); after it, VmHWM (the peak since the reset) is read, so each row says how far
above its resting RSS the server went for that input. While each input is sent, a
thread asks ``/health`` over and over (``tests.latency.HealthProbe``): the row says
the slowest answer, what any other client waited meanwhile. After each input
``/health`` must still answer 200. The exit code is 1 when any input got a 5xx
(but the 503 the slow-client cases expect), a dropped connection, left the server
unable to answer, or held ``/health`` past 100 ms.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import dataclasses
import io
import itertools
import json
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import openpyxl

from benchmarks.common import PREFIX, Server
from benchmarks.hostile_decisions import cases_decisions
from benchmarks.hostile_loop import cases_loop
from benchmarks.hostile_requests import (
    DATA,
    Case,
    Content,
    M,
    MiB,
    answer_of,
    body,
    dataset_document,
    etl,
    from_json,
    lazily,
)
from benchmarks.hostile_upload import cases_upload
from benchmarks.hostile_values import cases_values
from benchmarks.hostile_xlsx import cases_xlsx
from tests import hostile
from tests.latency import HEALTH_BOUND_SECONDS, HealthProbe


def proc_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for process {pid}")


@dataclasses.dataclass
class Outcome:
    case: str
    answer: str
    rss_before_mib: float = 0.0
    peak_mib: float = 0.0
    serving: bool = True
    health_ms: float = 0.0
    health_bound_ms: float = HEALTH_BOUND_SECONDS * 1000

    @property
    def bad(self) -> bool:
        return (
            self.answer.startswith(("5", "dropped"))
            or not self.serving
            or self.health_ms > self.health_bound_ms
        )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def big_csv(size: int) -> bytes:
    row = b"SKU0001,Kitchen roll large,household,1.74,36.4,3.03\n"
    header = b"sku,description,family,weight_kg,picks_per_day,unit_volume_l\n"
    return header + row * ((size - len(header)) // len(row))


def concurrent_csv_uploads(base: str) -> str:
    inventory_xlsx = (DATA / "inventory.xlsx").read_bytes()
    body = big_csv(51 * MiB)

    def one(i: int) -> str:
        with httpx.Client(base_url=base, timeout=300) as client:
            files = [("sku_data.csv", body), ("inventory.xlsx", inventory_xlsx)]
            return etl(client, *files, dataset=f"big-{i}").split(" ")[0]

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(one, range(6)))
    return "statuses " + " ".join(sorted(statuses))


def chunked_flood(base: str, limit: int = 2 * 1024 * MiB) -> str:
    """A chunked upload that never ends: how much the server reads before it answers."""
    host, port = base.removeprefix("http://").split(":")
    chunk = b"x" * MiB
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(
            f"POST {M}/data/from-json HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        sock.settimeout(0.0)
        started = time.monotonic()
        reply = b""
        while sent < limit and time.monotonic() - started < 30:
            try:
                reply += sock.recv(65536)
                if reply:
                    break
            except BlockingIOError:
                pass
            except OSError:
                break
            try:
                sock.settimeout(5)
                sock.sendall(frame)
                sock.settimeout(0.0)
                sent += len(chunk)
            except OSError:
                break
        sock.settimeout(5)
        with contextlib.suppress(OSError):
            reply += sock.recv(65536)
    status = reply.split(b"\r\n", 1)[0].decode("latin-1") if reply else "no answer"
    closes = b"connection: close" in reply.lower()
    return f"{status}; sent {sent // MiB} MiB before it; connection: close={closes}"


def formula_cells(client: httpx.Client, _: str) -> str:
    """Formulas in a CSV cell and an XLSX cell: uploaded, then read back as stored."""
    formula = '=HYPERLINK("http://example.invalid","x")'
    csv = (
        (DATA / "sku_data.csv")
        .read_bytes()
        .replace(b'"Kitchen roll, large"', b'"' + formula.replace('"', '""').encode() + b'"')
    )
    book = openpyxl.load_workbook(DATA / "inventory.xlsx")
    book["stock"]["B2"] = '=CONCAT("A02-", "B01-L1")'
    buffer = io.BytesIO()
    book.save(buffer)
    workbook = buffer.getvalue()
    stored = []
    for name, content, table, column in (
        ("sku_data.csv", csv, "sku_data", "description"),
        ("inventory.xlsx", workbook, "stock", "location"),
    ):
        files = {"sku_data.csv": (DATA / "sku_data.csv").read_bytes()} | {name: content}
        if name == "sku_data.csv":
            files["inventory.xlsx"] = (DATA / "inventory.xlsx").read_bytes()
        dataset = f"formula-{time.monotonic_ns()}"
        answer = etl(client, *files.items(), dataset=dataset)
        if not answer.startswith("200 {"):
            stored.append(f"{name}: {answer}")
            continue
        frame = client.get(f"{M}/data/{dataset}/tables/{table}/frame", params={"limit": 1})
        stored.append(f"{name}: stored {frame.json()['rows'][0][column]!r}")
    return "; ".join(stored)


#: What `measure` serves, for the cases that read the server's log.
SERVER: dict[str, Callable[[], str]] = {}


def cases_edge() -> dict[str, Case]:
    """The HTTP edge: security headers, same origin, typeless JSON, credentials in logs."""
    secret = "k-hostile-7c1d9e"

    def security_headers(path: str) -> Case:
        def send(c: httpx.Client, _: str) -> str:
            r = c.get(path)
            csp = r.headers.get("content-security-policy", "MISSING")
            nosniff = r.headers.get("x-content-type-options", "MISSING")
            return f"{r.status_code} nosniff={nosniff} CSP {csp[:70]}"

        return send

    def write_from(origin: Callable[[str], str], host: str | None = None) -> Case:
        def send(c: httpx.Client, base: str) -> str:
            headers = {"Origin": origin(base)}
            if host is not None:
                headers["Host"] = host
            return answer_of(
                c.post(f"{PREFIX}/sessions", json={"display_name": "x"}, headers=headers)
            )

        return send

    def typeless(headers: dict[str, str]) -> Case:
        def send(c: httpx.Client, _: str) -> str:
            document = dataset_document(name=f"typeless-{len(headers)}")
            body = json.dumps(document).encode()
            request = c.build_request("POST", f"{M}/data/from-json", content=body, headers=headers)
            request.headers.pop("content-type", None)  # none at all
            return answer_of(c.send(request))

        return send

    def credentials_in_log(c: httpx.Client, _: str) -> str:
        credentials = {
            "X-API-Key": secret,
            "Authorization": f"Bearer {secret}",
            "Cookie": f"s={secret}",
        }
        r = c.get(f"{PREFIX}/sessions?api_key={secret}&limit=1", headers=credentials)
        log = SERVER["log"]() if "log" in SERVER else ""
        return f"{r.status_code}; key in the server's log: {'YES' if secret in log else 'no'}"

    return {
        "headers: on a JSON answer": security_headers("/health"),
        "headers: on the web app": security_headers("/"),
        "headers: on /redoc": security_headers("/redoc"),
        "origin: :9999 writing to Host without port": write_from(
            lambda _: "http://127.0.0.1:9999", "127.0.0.1"
        ),
        "origin: https page, http server": write_from(lambda base: base.replace("http:", "https:")),
        "origin: null": write_from(lambda _: "null"),
        "host: testserver through a socket": lambda c, _: answer_of(
            c.get("/health", headers={"Host": "testserver"})
        ),
        "json: from-json without Content-Type": typeless({}),
        "json: typeless body from another site": typeless({"Origin": "http://evil.example"}),
        "log: API key in query, header, cookie": credentials_in_log,
    }


def cases() -> dict[str, Case]:
    sku = (DATA / "sku_data.csv").read_bytes()
    inventory_xlsx = (DATA / "inventory.xlsx").read_bytes()

    def upload_named(name: str) -> Case:
        return lambda c, _: etl(c, (name, sku), ("inventory.xlsx", inventory_xlsx))

    def inventory(content: Content) -> Case:
        return lambda c, _: etl(c, ("sku_data.csv", sku), ("inventory.xlsx", body(content)))

    def sku_file(content: Content) -> Case:
        return lambda c, _: etl(
            c, ("sku_data.csv", body(content)), ("inventory.xlsx", inventory_xlsx)
        )

    def long_cells() -> bytes:
        return b"sku,description\n" + b"".join(b"A,%s\n" % (b"x" * 10_000_000) for _ in range(5))

    def doc(**changes: object) -> Case:
        def send(c: httpx.Client, _: str) -> str:
            document = dataset_document(name=f"hostile-{next(serial)}", **changes)
            return from_json(c, json.dumps(document).encode())

        return send

    def raw_json(text: str, content_type: str = "application/json") -> Case:
        def send(c: httpx.Client, _: str) -> str:
            named = text.replace('"hostile-json"', f'"hostile-{next(serial)}"')
            return from_json(c, named.encode(), content_type)

        return send

    serial = itertools.count()
    valid = json.dumps(dataset_document()).encode()
    million = {
        "t": {
            "columns": ["a", "b"],
            "dtypes": ["int64", "str"],
            "data": {"a": list(range(1_000_000)), "b": ["record"] * 1_000_000},
        }
    }
    return {
        "xlsx: one cell at XFD1048576": inventory(hostile.far_cell_workbook("XFD1048576")),
        "xlsx: one cell at ZZ100000": inventory(hostile.far_cell_workbook("ZZ100000")),
        "xlsx: dimension A1:XFD1048576": inventory(hostile.declared_dimension_workbook()),
        "xlsx: sheet inflating to 256 MiB": inventory(lazily(hostile.bomb_workbook, 256 * MiB)),
        "xlsx: sheet inflating to 1 GiB": inventory(lazily(hostile.bomb_workbook, 1024 * MiB)),
        "xlsx: not a zip": inventory(b"PK not really a zip archive"),
        "csv: binary data": sku_file(b"\x00\x01\x02binary\xff" * 1000),
        "csv: not UTF-8": sku_file("sku,description\nA,caf\xe9\n".encode("latin-1")),
        "csv: 5 rows with a 10M-char cell": sku_file(lazily(long_cells)),
        "csv: 6 concurrent 51 MiB uploads": lambda _, base: concurrent_csv_uploads(base),
        "csv and xlsx: formula cells": formula_cells,
        "name: ../sku_data.csv": upload_named("../sku_data.csv"),
        "name: /etc/sku_data.csv": upload_named("/etc/sku_data.csv"),
        "name: C:\\Windows\\sku_data.csv": upload_named("C:\\Windows\\sku_data.csv"),
        "name: NUL byte": upload_named("sku_data.csv\x00.xlsx"),
        "name: control character": upload_named("sku\x01data.csv"),
        "name: 10,000 characters": upload_named("a" * 10_000 + ".csv"),
        "chunked upload without end": lambda _, base: chunked_flood(base),
        "json: 1,000,000 records": doc(tables=million),
        "json: created_at year 9999": doc(created_at="9999-12-31T23:59:59+00:00"),
        "json: created_at year 1 with offset": doc(created_at="0001-01-01T00:00:00+05:00"),
        "json: malformed index": doc(
            tables={"t": {"columns": ["a"], "dtypes": ["int64"], "data": {"a": [1]}, "index": 7}}
        ),
        "json: date in year 9999 in a table": doc(
            tables={
                "t": {
                    "columns": ["d"],
                    "dtypes": ["datetime64[ns]"],
                    "data": {"d": ["9999-01-01T00:00:00"]},
                }
            }
        ),
        "json: duplicate column names": doc(
            tables={"t": {"columns": ["a", "a"], "dtypes": ["int64", "int64"], "data": {"a": [1]}}}
        ),
        "json: empty column name": doc(
            tables={"t": {"columns": [""], "dtypes": ["int64"], "data": {"": [1]}}}
        ),
        "json: data_parameters nested 100,000 deep": raw_json(
            valid.decode()[:-1] + ', "data_parameters": {"x": ' + nested(100_000) + "}}"
        ),
        "json: NaN": raw_json(valid.decode().replace("[1, 2]", "[NaN, 2]")),
        "json: Infinity": raw_json(valid.decode().replace("[1, 2]", "[Infinity, 2]")),
        "json: 1e400": raw_json(valid.decode().replace("[1, 2]", "[1e400, 2]")),
        "json: a 400-digit integer": raw_json(valid.decode().replace("[1, 2]", f"[{10**399}, 2]")),
        "json: duplicate keys": raw_json(
            valid.decode().replace('"version": 1', '"version": 1, "version": 2')
        ),
        "json: sent as text/plain": raw_json(valid.decode(), "text/plain"),
        "json: sent as form": raw_json(valid.decode(), "application/x-www-form-urlencoded"),
        "session: 90 MiB display name": lambda c, _: answer_of(
            c.post(f"{PREFIX}/sessions", json={"display_name": "n" * 90 * MiB})
        ),
        "session: name with /": lambda c, _: answer_of(
            c.post(f"{PREFIX}/sessions", json={"display_name": "a/b"})
        ),
        "session: name ..": lambda c, _: answer_of(
            c.post(f"{PREFIX}/sessions", json={"display_name": ".."})
        ),
        "session: NUL in name": lambda c, _: answer_of(
            c.post(f"{PREFIX}/sessions", json={"display_name": "a\x00b"})
        ),
        "path: %00 in a scenario id": lambda c, _: answer_of(c.get(f"{M}/scenarios/a%00b")),
        "frame: offset 2**64": lambda c, _: answer_of(
            c.get(f"{M}/data/Master data/tables/sku_data/frame", params={"offset": 2**64})
        ),
        **cases_edge(),
        **cases_values(),
        **cases_xlsx(),
        **cases_loop(),
        **cases_decisions(),
        **cases_upload(),
    }


def measure(serve_args: list[str], only: list[str]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with Server(["--example", *serve_args]) as server:
        SERVER["log"] = server.log
        pid = server.pid
        with HealthProbe(server.base) as idle:
            time.sleep(2)
        # The machine's own share: what /health takes with nothing else sent.
        print(f"slowest /health over 2 s idle: {idle.worst * 1000:.0f} ms", flush=True)
        with httpx.Client(base_url=server.base, timeout=300) as client:
            for name, case in cases().items():
                if only and not any(o.lower() in name.lower() for o in only):
                    continue
                Path(f"/proc/{pid}/clear_refs").write_text("5")
                before = proc_kib(pid, "VmRSS")
                with HealthProbe(server.base) as probe:
                    try:
                        answer = case(client, server.base)
                    except httpx.HTTPError as error:
                        answer = f"dropped: {type(error).__name__}: {error}"[:120]
                peak = proc_kib(pid, "VmHWM")
                try:
                    serving = httpx.get(f"{server.base}/health", timeout=30).status_code == 200
                except httpx.HTTPError:
                    serving = False
                if probe.failures:
                    serving = False
                    answer += f" (/health failed meanwhile: {probe.failures[0]})"
                outcome = Outcome(
                    name, answer, before / 1024, peak / 1024, serving, probe.worst * 1000
                )
                print(
                    f"{name:40} {outcome.rss_before_mib:6.0f} -> {outcome.peak_mib:6.0f} MiB"
                    f" {outcome.health_ms:7.0f} ms  {answer}",
                    flush=True,
                )
                outcomes.append(outcome)
                if not serving:
                    break
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile", description=__doc__)
    parser.add_argument("--only", action="append", default=[], help="cases whose name has this")
    parser.add_argument("--markdown", type=Path, help="also write a Markdown table here")
    parser.add_argument(
        "--health-bound-ms",
        type=float,
        default=HEALTH_BOUND_SECONDS * 1000,
        help="the slowest /health a case may cause (default 100 ms, on a quiet machine)",
    )
    parser.add_argument("serve_args", nargs="*", help="extra `serve` arguments, after --")
    args = parser.parse_args(argv)
    outcomes = measure(args.serve_args, args.only)
    for outcome in outcomes:
        outcome.health_bound_ms = args.health_bound_ms
    if args.markdown:
        lines = [
            "| input | answer | RSS before → peak (MiB) | slowest /health (ms) |",
            "|---|---|---|---|",
        ]
        for o in outcomes:
            answer = o.answer.replace("|", "\\|")
            lines.append(
                f"| {o.case} | {answer} | {o.rss_before_mib:.0f} → {o.peak_mib:.0f} "
                f"| {o.health_ms:.0f} |"
            )
        args.markdown.write_text("\n".join(lines) + "\n")
    bad = [o.case for o in outcomes if o.bad]
    print(f"{len(outcomes)} inputs; bad: {bad or 'none'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
