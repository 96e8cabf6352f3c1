"""Refuse to serve an in-memory store from several worker processes."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import tempfile
from pathlib import Path
from typing import IO

_held: list[IO[bytes]] = []


def under_process_manager() -> bool:
    """True in a worker of gunicorn or of `uvicorn --workers`."""
    software = os.environ.get("SERVER_SOFTWARE", "")
    return software.startswith("gunicorn") or multiprocessing.parent_process() is not None


def claim_single_worker(label: str) -> None:
    """Take a lock shared by the workers of one process manager; the second worker to
    try raises `RuntimeError` saying why and what to configure."""
    if not under_process_manager():
        return
    path = Path(tempfile.gettempdir()) / f"algomancy-memory-store-{os.getppid()}.lock"
    handle = open(path, "wb")  # noqa: SIM115 - held open for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RuntimeError(
            f"{label}: the in-memory store keeps state inside one process, so a second "
            "worker would see a different state (and answer 404 for the first one's "
            "scenarios). Run one worker, or set has_persistent_state=True (SQLite, "
            "--data-path) or database_url (PostgreSQL, --database-url) to share state."
        ) from None
    _held.append(handle)
