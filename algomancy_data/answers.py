"""The answers of a parser child (`algomancy_data.parseworker`) to its pool or to
the ETL child's server (`algomancy_api.etlchild`): sent with `send_answer`, read
with `recv_answer`.

Apart from `parseworker`, which runs as ``python -m algomancy_data.parseworker``:
a module imported by the package (through `parsepool`) and then run with ``-m``
makes runpy warn on the child's stderr, which is the server's log.
"""

from __future__ import annotations

import pickle
import struct
from multiprocessing.connection import Connection
from typing import Any

#: A `bytes` buffer an answer offers out of band (`pickle.PickleBuffer`, protocol 5:
#: a `PackedDataSource`'s Arrow payload) of at least this size is sent as a message
#: of its own after the answer's pickle, never copied into it.
OUT_OF_BAND_BYTES = 1 << 20
_COUNT = struct.Struct("<I")


def encode_answer(answer: Any) -> list[Any]:
    """The messages `send_answer` sends for `answer`: the number of out-of-band
    buffers, the pickle (protocol 5) and those buffers (zero-copy views).

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
    return [_COUNT.pack(len(buffers)), head, *buffers]


def send_answer(connection: Connection, answer: Any) -> None:
    """Send `answer` (see `encode_answer`); ``("memory", None)`` when encoding it
    runs out of memory. Everything is encoded before the first message goes out, so
    that a failure never leaves half an answer on the connection."""
    try:
        messages = encode_answer(answer)
    except MemoryError:
        messages = encode_answer(("memory", None))
    for message in messages:
        connection.send_bytes(message)


def recv_answer(connection: Connection) -> Any:
    """An answer `send_answer` sent (`EOFError` / `OSError` when the child is gone)."""
    (count,) = _COUNT.unpack(connection.recv_bytes())
    head = connection.recv_bytes()
    buffers = [connection.recv_bytes() for _ in range(count)]
    return pickle.loads(head, buffers=buffers)
