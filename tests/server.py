"""Real server processes for the tests: start, wait until healthy, stop or kill."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.marks import require_slow
from tests.polling import DEFAULT_TIMEOUT, wait_for

ROOT = Path(__file__).resolve().parents[1]

#: The line in which uvicorn or gunicorn reports the address it bound.
BOUND = re.compile(r"(?:Uvicorn running on|Listening at:) https?://[^\s]+:(\d+)")


def port_is_free(port: int) -> bool:
    """Whether `port` can be bound now (for the seed's samples, which need 8051)."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_holders(port: int) -> list[tuple[int, str]]:
    """The processes listening on TCP `port` that this user can see, as (pid, command
    line), read from /proc (Linux); empty where /proc does not tell."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; field 9 is the inode.
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(fields[9])
    found: list[tuple[int, str]] = []
    if not inodes:
        return found
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:  # gone, or another user's
            continue
        links = set()
        for fd in fds:
            with contextlib.suppress(OSError):  # closed meanwhile (the listing's own fd)
                links.add(os.readlink(fd))
        if any(f"socket:[{inode}]" in links for inode in inodes):
            try:
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                command = "?"
            found.append((int(proc.name), command or "?"))
    return found


def port_taken_message(port: int) -> str | None:
    """None when `port` is free; else what holds it and what to do, in plain words
    (the seed's samples need the fixed port 8051 and cannot run beside another server)."""
    if port_is_free(port):
        return None
    holders = port_holders(port)
    if holders:
        named = "; ".join(f"process {pid} ({command[:200]})" for pid, command in holders)
        stop = " or ".join(f"`kill {pid}`" for pid, _ in holders)
        who = f"port {port} is taken by {named}"
        how = f"stop it ({stop}, or Ctrl+C in its terminal)"
    else:
        who = f"port {port} is taken by a process this user cannot see"
        how = (
            f"find it with `ss -ltnp 'sport = :{port}'` (as root for other users' processes) "
            "and stop it"
        )
    return (
        f"{who}. These tests start `algomancy-api serve --example` on the fixed address "
        f"http://127.0.0.1:{port} that the seed's samples call, so they cannot run while "
        f"anything else listens there: {how}, then run them again."
    )


class ServerProcess:
    """`python -m algomancy_api serve ...` (or any command) on 127.0.0.1.

    The server picks its own port: it is started on port 0 (the operating system
    chooses a free one when the server binds) and `start()` reads the bound port
    back from the server's log (uvicorn's "Uvicorn running on" line, gunicorn's
    "Listening at"). There is no window between choosing a port and binding it in
    which another process could take it. `command` may hold `{port}` where the port
    goes; pass `port` only where a fixed port is the point (the seed's samples).
    """

    def __init__(
        self,
        args: Sequence[str],
        cwd: Path,
        *,
        env: dict[str, str] | None = None,
        command: Sequence[str] | None = None,
        port: int = 0,
    ) -> None:
        self.requested_port = port
        self.port = port
        self.cwd = cwd
        self.log_path = cwd / f"server-{time.monotonic_ns()}.log"
        self.command = (
            [c.replace("{port}", str(port)) for c in command]
            if command
            else [
                sys.executable,
                "-m",
                "algomancy_api",
                "serve",
                *args,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        )
        self.env = os.environ | {"PYTHONPATH": str(ROOT)} | (env or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = DEFAULT_TIMEOUT) -> ServerProcess:
        require_slow("a server process")
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(self._healthy, timeout=timeout, interval=0.05, what="a healthy server")
        except BaseException:
            self.stop()
            raise
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{self.log()}")
        if self.requested_port == 0:
            found = BOUND.search(self.log())
            if found is None:
                return False
            self.port = int(found.group(1))
        try:
            return httpx.get(f"{self.base}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        """Send `sig` to the server's process group and wait for it to end."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        os.killpg(self.process.pid, sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(timeout)

    def kill(self) -> int | None:
        return self.stop(signal.SIGKILL)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
