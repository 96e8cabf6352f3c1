"""A CSV file read by Arrow while its bytes still arrive: `EarlyCSVRead`.

An upload's CSV part is written to a file as the request body comes in
(`algomancy_api.uploadform`); `EarlyCSVRead` hands those bytes to
``pyarrow.csv.read_csv`` in a thread of its own as they are written, so that the
read overlaps the transfer instead of starting after the whole body is in. Its
frame is only a head start: `CSVFile.read` runs every check of the plain read over
the whole file as before, and takes the early frame in place of its own Arrow read
when it was read from the same bytes with the same delimiter, encoding and column
types (`frame`); otherwise it reads as it always did. So answers, 4xx refusals,
fallbacks to pandas and digests are those of the plain read.

What it checks itself is what keeps Arrow from chewing hostile input before those
checks run: the head (empty, binary, UTF-16) as `CSVFile.read` does, and per block,
before Arrow gets it, the rows x columns bound and the longest-field bound of
`CSVFile._check_extent`; any of them failing, or Arrow refusing the file, and the
early read gives up (the plain read then answers with its message).

Bought: see ``python -m benchmarks.etl_csv``, the row "over HTTP (in memory, ETL in
the server)", and the docstring's fourth stop.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from algomancy_data.files import (
    _SAMPLE_BYTES,
    CSVFile,
    FileReadError,
    _fields_within,
    read_arrow_csv,
)
from algomancy_data.limits import ReadLimits

if TYPE_CHECKING:
    import pandas as pd


class _GaveUp(Exception):
    """The early read stops: the plain read will do (and answer) it all."""


class GrowingFile:
    """A file being written by someone else (its descriptor, duplicated), read in
    order as it grows: `read` waits for the bytes it asks for until `finish` says
    there are no more, or `abort` that there will never be."""

    def __init__(self, fd: int) -> None:
        self._fd = os.dup(fd)
        self._written = 0
        self._position = 0
        self._finished = False
        self._aborted = False
        self._awaited: int | None = None  # the size the reader waits for
        self._changed = threading.Condition()
        self.closed = False

    def grew(self, written: int) -> None:
        """`written` bytes are in the file now."""
        with self._changed:
            self._written = written
            # The reader is woken once per block it waits for, not per chunk written.
            if self._awaited is not None and written >= self._awaited:
                self._changed.notify_all()

    def finish(self) -> None:
        """Every byte is written."""
        with self._changed:
            self._finished = True
            self._changed.notify_all()

    def abort(self) -> None:
        """The file will not be complete: reads fail from now on."""
        with self._changed:
            self._aborted = True
            self._changed.notify_all()

    def readable(self) -> bool:
        return True

    def peek(self, size: int) -> bytes:
        """The first `size` bytes (fewer: the whole file), without moving."""
        self._wait_for(size)
        return os.pread(self._fd, min(size, self._written), 0)

    def read(self, size: int = -1) -> bytes:
        """The next `size` bytes (all that are left when negative); fewer only at the end."""
        if size is None or size < 0:
            self._wait_for(None)
            size = self._written - self._position
        else:
            self._wait_for(self._position + size)
        size = min(size, self._written - self._position)
        chunk = os.pread(self._fd, size, self._position) if size > 0 else b""
        self._position += len(chunk)
        return chunk

    @property
    def size(self) -> int:
        """The bytes read so far (all of them once `read` gave ``b""``)."""
        return self._position

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._fd)

    def _wait_for(self, end: int | None) -> None:
        with self._changed:
            while not self._aborted and not self._finished:
                if end is not None and self._written >= end:
                    return
                self._awaited = end if end is not None else sys.maxsize
                self._changed.wait()
                self._awaited = None
            if self._aborted:
                raise _GaveUp("the upload was cut off")


class _CheckedBlocks:
    """`GrowingFile.read` with `CSVFile._check_extent`'s bounds made per block,
    before Arrow gets the block."""

    def __init__(
        self,
        source: GrowingFile,
        delimiter: bytes,
        columns: int,
        limits: ReadLimits,
        max_bytes: int | None,
    ) -> None:
        self._source = source
        self._max_bytes = max_bytes
        self._delimiter = delimiter
        self._columns = columns
        self._limits = limits
        self._rows = 0
        self.closed = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        block = self._source.read(size)
        if self._max_bytes is not None and self._source.size > self._max_bytes:
            raise _GaveUp("over max_file_bytes")
        self._rows += block.count(b"\n")
        if self._rows * self._columns > self._limits.max_table_cells:
            raise _GaveUp("over max_table_cells")
        if not _fields_within(block, self._delimiter, 4 * self._limits.max_cell_chars):
            raise _GaveUp("maybe a field over max_cell_chars")
        return block

    def close(self) -> None:
        self.closed = True


class EarlyCSVRead:
    """The Arrow read of a CSV upload, started while its bytes arrive (see the
    module). The writer calls `grew`, `finish` when the file is complete and `close`
    with the file; `CSVFile.read` asks
    `frame` for the result."""

    def __init__(
        self,
        fd: int,
        filename: str,
        column_types: Mapping[str, str],
        limits: ReadLimits,
        max_bytes: int | None = None,
    ) -> None:
        self._source = GrowingFile(fd)
        self._max_bytes = max_bytes
        self._filename = filename
        self._limits = limits
        self.column_types = dict(column_types)
        self._frame: pd.DataFrame | None = None
        self._read_as: tuple[str, str] | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="early-csv-read", daemon=True)
        self._thread.start()

    def grew(self, written: int) -> None:
        """`written` bytes of the file are written."""
        self._source.grew(written)

    def finish(self) -> None:
        """The file is complete."""
        self._source.finish()

    def close(self) -> None:
        """The file is closed: the read stops (if it has not ended), and this returns
        once it has let go of the file."""
        self._source.abort()
        self._thread.join()

    def frame(
        self, data: bytes, delimiter: str, encoding: str, column_types: Mapping[str, str]
    ) -> pd.DataFrame | None:
        """The frame read early, when it was read from `data` as `CSVFile.read` would
        read it now; else None (the caller reads it)."""
        self._done.wait()
        if (
            self._frame is None
            or self._read_as != (delimiter, encoding)
            or dict(column_types) != self.column_types
            or self._source.size != len(data)
        ):
            return None
        frame, self._frame = self._frame, None  # handed over once
        return frame

    def _run(self) -> None:
        try:
            self._frame = self._read()
        except (_GaveUp, FileReadError):
            self._frame = None
        except Exception:  # Arrow refused it, or a check failed: the plain read answers
            self._frame = None
        finally:
            self._source.close()
            self._done.set()

    def _read(self) -> pd.DataFrame:
        head_bytes = self._source.peek(_SAMPLE_BYTES)
        head = CSVFile(self._filename, head_bytes, self._limits)
        if not head_bytes.strip() or b"\x00" in head_bytes:
            raise _GaveUp("empty or binary")
        encoding = head.detect_encoding()
        delimiter = head.detect_delimiter(head_bytes.decode(encoding, errors="ignore"))
        if b"\n" not in head_bytes and len(head_bytes) == _SAMPLE_BYTES:
            raise _GaveUp("a header line longer than the head")
        first_line = head_bytes.split(b"\n", 1)[0]
        columns = first_line.count(delimiter.encode()) + 1
        self._read_as = (delimiter, encoding)
        blocks = _CheckedBlocks(
            self._source, delimiter.encode(), columns, self._limits, self._max_bytes
        )
        return read_arrow_csv(blocks, delimiter, encoding, self.column_types)
