"""The SQLite file on disk: who may read it, and when its write-ahead log is
folded back into it (`checkpoint`)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import Engine


def checkpoint(engine: Engine) -> None:
    """`PRAGMA wal_checkpoint(TRUNCATE)` on a pooled connection."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def private_folder(folder: Path) -> None:
    """Create `folder` (and its parents) readable by this user only; an existing
    folder keeps the permissions its owner gave it."""
    folder = folder.expanduser()
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        # mkdir's mode is filtered through the umask; say it once more, exactly.
        os.chmod(folder, 0o700)


def private_file(path: Path) -> None:
    """Create the database file (and its folder) for this user only, before SQLite
    does: SQLite gives its -wal and -shm files the permissions of the main file."""
    private_folder(path.parent)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, 0o600)
