"""A bounded HTTP load generator: keep-alive GETs of one URL from N connections.

    python -m benchmarks.loadgen URL [--seconds S] [--connections N] [--warmup W]
                                     [--max-requests M] [--client raw|httpx|wrk]

Prints one JSON line: requests, errors, seconds, rps, p50_ms, p99_ms (latencies of
the measured window only). Bounded in time (warm-up + seconds) and in count.

`raw` is an asyncio-streams HTTP/1.1 client (on uvloop when installed): a few times
cheaper per request than `httpx`, so that on a small machine the client is less
likely than the server to be the bottleneck. `httpx` uses `httpx.AsyncClient`;
`wrk` runs wrk (if installed) and parses its latency report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import shutil
import subprocess
import sys
import time
from urllib.parse import urlsplit


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


class Window:
    """Counts and latencies of requests that end inside the measured window."""

    def __init__(self, warmup: float, seconds: float, max_requests: int) -> None:
        now = time.perf_counter()
        self.start = now + warmup
        self.end = self.start + seconds
        self.max_requests = max_requests
        self.latencies: list[float] = []
        self.errors = 0
        self.issued = 0

    def more(self) -> bool:
        return time.perf_counter() < self.end and self.issued < self.max_requests

    def record(self, began: float, ok: bool) -> None:
        ended = time.perf_counter()
        if self.start <= began and ended <= self.end:
            if ok:
                self.latencies.append(ended - began)
            else:
                self.errors += 1


async def raw_worker(url: str, window: Window) -> None:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: */*\r\n\r\n").encode()
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        while window.more():
            window.issued += 1
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if match is None:
                raise RuntimeError(f"no content-length in {head!r}")
            await reader.readexactly(int(match.group(1)))
            window.record(began, 200 <= status < 300)
    finally:
        writer.close()


async def httpx_worker(client: object, url: str, window: Window) -> None:
    while window.more():
        window.issued += 1
        began = time.perf_counter()
        response = await client.get(url)  # type: ignore[attr-defined]
        window.record(began, response.is_success)


async def run_async(url: str, args: argparse.Namespace) -> Window:
    window = Window(args.warmup, args.seconds, args.max_requests)
    if args.client == "httpx":
        import httpx

        limits = httpx.Limits(
            max_connections=args.connections, max_keepalive_connections=args.connections
        )
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            await asyncio.gather(
                *(httpx_worker(client, url, window) for _ in range(args.connections))
            )
    else:
        await asyncio.gather(*(raw_worker(url, window) for _ in range(args.connections)))
    return window


def run_wrk(url: str, args: argparse.Namespace) -> dict[str, float]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed")
    if args.warmup > 0:
        subprocess.run(
            [wrk, "-t1", f"-c{args.connections}", f"-d{max(1, round(args.warmup))}s", url],
            capture_output=True,
            check=True,
        )
    out = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{args.connections}",
            f"-d{max(1, round(args.seconds))}s",
            "--latency",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    p50 = re.search(r"50%\s+(\S+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert p50 and p99 and total
    requests = int(total.group(1))
    return {
        "requests": requests,
        "errors": int(non2xx.group(1)) if non2xx else 0,
        "seconds": args.seconds,
        "rps": requests / args.seconds,
        "p50_ms": ms(p50.group(1)),
        "p99_ms": ms(p99.group(1)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--client", choices=["raw", "httpx", "wrk"], default="raw")
    args = parser.parse_args(argv)
    if args.client == "wrk":
        print(json.dumps(run_wrk(args.url, args)))
        return 0
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    window = asyncio.run(
        asyncio.wait_for(run_async(args.url, args), args.warmup + args.seconds + 30)
    )
    latencies = window.latencies
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "errors": window.errors,
                "seconds": args.seconds,
                "rps": len(latencies) / args.seconds,
                "p50_ms": percentile(latencies, 0.50) * 1e3,
                "p99_ms": percentile(latencies, 0.99) * 1e3,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
