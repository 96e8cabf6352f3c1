"""The answers of a parser child (`algomancy_data.parseworker`) to its pool or to
the ETL child's server (`algomancy_api.etlchild`): sent with `send_answer`, read
with `recv_answer`.

Apart from `parseworker`, which runs as ``python -m algomancy_data.parseworker``:
a module imported by the package (through `parsepool`) and then run with ``-m``
makes runpy warn on the child's stderr, which is the server's log.
"""

from __future__ import annotations

import os
import pickle
import socket
import struct
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

#: A `bytes` buffer an answer offers out of band (`pickle.PickleBuffer`, protocol 5:
#: a `PackedDataSource`'s Arrow payload) of at least this size is sent after the
#: answer's pickle as raw bytes on the connection's socket, never copied into it.
OUT_OF_BAND_BYTES = 1 << 20
_COUNT = struct.Struct("<I")
_SIZE = struct.Struct("<Q")


def encode_answer(answer: Any) -> list[Any]:
    """What `send_answer` sends for `answer`: a message with the number and sizes of
    the out-of-band buffers, the pickle (protocol 5) and those buffers (zero-copy
    views, written raw after the two messages).

    An ETL child's answer holds the dataset's 9.6 MB Arrow payload (the 100,000-row
    CSV of ``python -m benchmarks.etl_csv``): pickled in band it was copied into the
    pickle here and out of it again in the server, two copies into fresh memory. Sent
    out of band, the round trip over the socket pair (both ends, a fresh payload
    each time, median of 24 alternating with the old way, two runs) went from 11.2
    to 6.8-7.0 ms of CPU: about 4 ms of the 80-110 ms (server and child) an upload
    over SQLite takes."""
    buffers: list[memoryview] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        raw = buffer.raw()
        if isinstance(raw.obj, bytes) and raw.nbytes >= OUT_OF_BAND_BYTES:
            buffers.append(raw)
            return False
        return True  # any other buffer (a numpy array's) stays in the pickle

    head = pickle.dumps(answer, protocol=5, buffer_callback=out_of_band)
    sizes = b"".join(_SIZE.pack(b.nbytes) for b in buffers)
    return [_COUNT.pack(len(buffers)) + sizes, head, *buffers]


def send_answer(connection: Connection, answer: Any) -> None:
    """Send `answer` (see `encode_answer`); ``("memory", None)`` when encoding it
    runs out of memory. Everything is encoded before the first message goes out, so
    that a failure never leaves half an answer on the connection."""
    try:
        counts, head, *buffers = encode_answer(answer)
    except MemoryError:
        counts, head, *buffers = encode_answer(("memory", None))
    connection.send_bytes(counts)
    connection.send_bytes(head)
    for buffer in buffers:
        _send_raw(connection, buffer)


def recv_answer(connection: Connection) -> Any:
    """An answer `send_answer` sent (`EOFError` / `OSError` when the child is gone)."""
    counts = connection.recv_bytes()
    (count,) = _COUNT.unpack_from(counts)
    sizes = [_SIZE.unpack_from(counts, _COUNT.size + i * _SIZE.size)[0] for i in range(count)]
    head = connection.recv_bytes()
    buffers = [_recv_raw(connection, size) for size in sizes]
    return pickle.loads(head, buffers=buffers)


def _send_raw(connection: Connection, buffer: memoryview) -> None:
    """`buffer` written as it is to the connection's descriptor (its size went
    ahead in the answer's first message)."""
    fd = connection.fileno()
    view = buffer.cast("B")
    while view:
        view = view[os.write(fd, view) :]


def _recv_raw(connection: Connection, size: int) -> bytes:
    """`size` bytes `_send_raw` wrote, received straight into one `bytes` object.

    ``Connection.recv_bytes`` reads a large message in socket-buffer-sized pieces
    into a ``BytesIO`` and copies it out again: for the 9.6 MB payload of an ETL
    child's answer (``python -m benchmarks.etl_csv``) 11.9-12.6 ms of the receiving
    thread's CPU, against 1.4-1.8 ms for one ``recv`` with ``MSG_WAITALL`` into the
    ``bytes`` it returns (``/tmp`` scratch bench: 20 payloads from a forked sender,
    three rounds alternating): the server's share of an upload over SQLite was
    about 28 ms of CPU."""
    fd = connection.fileno()
    try:
        sock = socket.socket(fileno=fd)
    except OSError:  # not a socket (a pipe): the same bytes, in pieces
        return _read_exactly(lambda n: os.read(fd, n), size)
    try:
        sock.settimeout(None)  # blocking, as the connection's descriptor is (whatever
        # default timeout the process set: that would make it non-blocking)
        return _read_exactly(lambda n: sock.recv(n, _WAITALL), size)
    finally:
        sock.detach()  # the descriptor stays the connection's


_WAITALL = getattr(socket, "MSG_WAITALL", 0)


def _read_exactly(read: Callable[[int], bytes], size: int) -> bytes:
    """`size` bytes from `read(at_most)` (one call when it gives them all at once)."""
    parts = []
    remaining = size
    while remaining:
        part = read(remaining)
        if not part:
            raise EOFError("the connection closed in the middle of an answer")
        parts.append(part)
        remaining -= len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)
