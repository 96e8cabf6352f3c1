"""A reserve of disk space beside a SQLite database, given up when the disk is full.

SQLite writes every change, a delete included, to its write-ahead log first, and
copies the log into the database file at each checkpoint: on a full disk nothing
can be deleted, so no space can be freed through the API. The store therefore keeps
a file of `RESERVE_BYTES` beside the database (`<database>-reserve`). When a delete
finds the disk full, the reserve is removed, the log is checkpointed and the delete
is tried once more (see `Database.deleting`). The reserve is made again, after a
delete or when the store opens, once the disk has room for it twice over: until
then the space the deletes freed inside the database serves new writes.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

RESERVE_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024


class Reserve:
    """The reserve file at `path`, of `size` bytes."""

    def __init__(self, path: Path, size: int | None = None) -> None:
        self.path = path
        self.size = RESERVE_BYTES if size is None else size

    def refill(self) -> bool:
        """Make the reserve when it is missing and the disk has room for it twice
        over; whether it is there now. Never raises for lack of space."""
        if self.path.exists():
            return True
        try:
            disk = os.statvfs(self.path.parent)
        except OSError:
            return False
        if disk.f_bavail * disk.f_frsize < 2 * self.size:
            return False
        partial = self.path.with_name(self.path.name + ".part")
        try:
            fd = os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
            try:
                _allocate(fd, self.size)
            finally:
                os.close(fd)
            os.replace(partial, self.path)
        except OSError:
            partial.unlink(missing_ok=True)
            return False
        return True

    def release(self) -> bool:
        """Remove the reserve; whether there was one to remove."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


def _allocate(fd: int, size: int) -> None:
    """Give the file `size` bytes of disk (not a sparse hole)."""
    try:
        os.posix_fallocate(fd, 0, size)
        return
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
    zeros = bytes(_CHUNK)
    written = 0
    while written < size:
        written += os.write(fd, zeros[: min(_CHUNK, size - written)])
    os.fsync(fd)
