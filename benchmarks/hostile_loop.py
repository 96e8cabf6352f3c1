"""The hostile cases of issue 21 for `python -m benchmarks.hostile`: JSON bodies that
held the event loop, and clients that send slowly or not at all.

Each case returns its answer as one line; the harness measures the slowest
`/health` meanwhile. The slow-client cases wait for the server's own deadlines
(`body_grace_seconds`, `header_timeout_seconds`: 10 s by default).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections.abc import Callable

import httpx

from algomancy_api.slowclients import raise_open_file_limit
from benchmarks.common import PREFIX
from tests.api.test_api_slow_clients import HOSTILE_BODIES

MiB = 1024 * 1024
M = f"{PREFIX}/sessions/main"
Case = Callable[[httpx.Client, str], str]


def _address(base: str) -> tuple[str, int]:
    host, port = base.removeprefix("http://").split(":")
    return host, int(port)


def _head(base: str, method: str, path: str, **headers: str | int) -> bytes:
    host, port = _address(base)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status_line(data: bytes) -> str:
    return data.split(b"\r\n", 1)[0].decode("latin-1") if data else "closed without answer"


def _answers(socks: list[socket.socket], timeout: float) -> tuple[list[bytes], float]:
    """What each socket receives until the server closes it (or `timeout`), and
    when the last one closed (seconds from now)."""
    started = time.monotonic()
    received = {sock: b"" for sock in socks}
    selector = selectors.DefaultSelector()
    for sock in socks:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    last = 0.0
    open_count = len(socks)
    while open_count and time.monotonic() - started < timeout:
        for key, _ in selector.select(timeout=1):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            if chunk:
                received[sock] += chunk
                continue
            selector.unregister(sock)
            open_count -= 1
            last = time.monotonic() - started
    selector.close()
    return [received[sock] for sock in socks], last


def json_body(body: bytes) -> Case:
    def send(client: httpx.Client, _: str) -> str:
        r = client.post(
            f"{PREFIX}/sessions", content=body, headers={"content-type": "application/json"}
        )
        detail = (
            r.json().get("detail", "")
            if r.headers.get("content-type") == "application/json"
            else ""
        )
        text = detail if isinstance(detail, str) else f"{len(detail)} validation errors"
        return f"{r.status_code} {text[:100]}"

    return send


def silent_uploads(client: httpx.Client, base: str) -> str:
    """Three ETL uploads declaring 256 MiB in all, then silence; meanwhile a JSON
    POST (a web-app button) and another upload."""
    socks = []
    for size in (100 * MiB, 100 * MiB, 56 * MiB):
        sock = socket.create_connection(_address(base), timeout=30)
        sock.sendall(
            _head(
                base,
                "POST",
                f"{M}/etl",
                content_type="multipart/form-data; boundary=xyz",
                content_length=size,
            )
        )
        socks.append(sock)
    started = time.monotonic()
    button = client.post(f"{PREFIX}/sessions", json={"display_name": f"b{time.time_ns()}"})
    answers, _ = _answers(socks, timeout=120)
    held = time.monotonic() - started
    for sock in socks:
        sock.close()
    files = {"files": ("sku_data.csv", b"sku\nA\n")}
    after = client.post(f"{M}/etl", data={"dataset_name": "after-silence"}, files=files)
    statuses = ", ".join(_status_line(a).split(" ", 2)[1] for a in answers)
    return (
        f"JSON POST meanwhile {button.status_code}; silent uploads answered "
        f"{statuses} within {held:.0f} s; an upload after: {after.status_code}"
    )


def half_sent_headers(count: int) -> Case:
    def send(client: httpx.Client, base: str) -> str:
        raise_open_file_limit()
        socks = []
        try:
            for _ in range(count):
                sock = socket.create_connection(_address(base), timeout=30)
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nAcc")
                socks.append(sock)
            started = time.perf_counter()
            health = httpx.get(f"{base}/health", timeout=30)
            took = (time.perf_counter() - started) * 1000
            answers, last = _answers(socks, timeout=60)
        finally:
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.close()
        timed_out = sum(a.startswith(b"HTTP/1.1 408") for a in answers)
        return (
            f"/health with {count} open: {health.status_code} in {took:.0f} ms; "
            f"{timed_out}/{count} answered 408 and closed, the last after {last:.1f} s"
        )

    return send


def slow_body(client: httpx.Client, base: str) -> str:
    """A JSON body of 5,000 declared bytes of which 18 come, then silence."""
    sock = socket.create_connection(_address(base), timeout=60)
    head = _head(
        base, "POST", f"{PREFIX}/sessions", content_type="application/json", content_length=5000
    )
    started = time.monotonic()
    sock.sendall(head + b'{"display_name": "')
    answers, _ = _answers([sock], timeout=120)
    sock.close()
    return f"{_status_line(answers[0])} after {time.monotonic() - started:.1f} s"


def cases_loop() -> dict[str, Case]:
    """Issue 21's cases (JSON bodies under `max_json_bytes`, slow clients)."""
    cases: dict[str, Case] = {
        f"loop json: {name}": json_body(body) for name, (body, _) in HOSTILE_BODIES.items()
    }
    cases["loop slow: 3 silent uploads of 256 MiB"] = silent_uploads
    cases["loop slow: 1,100 half-sent headers"] = half_sent_headers(1100)
    cases["loop slow: a body that stops"] = slow_body
    return cases
