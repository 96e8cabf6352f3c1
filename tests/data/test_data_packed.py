"""`PackedDataSource`: a dataset written as Arrow with its digest, kept by a store
without pandas (what the ETL child process sends back)."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import socket
import threading
from multiprocessing.connection import Connection

import pandas as pd
import pytest

from algomancy_data import DataSource, content_digest
from algomancy_data.answers import encode_answer, recv_answer, send_answer
from algomancy_data.digest import pack


def dataset() -> DataSource:
    data = DataSource("orders", data_parameters={"week": 3})
    data.add_table("orders", pd.DataFrame({"id": [1, 2, 3], "sku": ["a", "b", "c"]}))
    data.add_table("empty", pd.DataFrame({"x": pd.Series([], dtype="int64")}))
    return data


def test_a_packed_dataset_brings_its_payload_digest_and_row_counts() -> None:
    data = dataset()
    packed = pack(data)
    assert packed.to_arrow_bytes() == data.to_arrow_bytes()
    assert content_digest(packed) == content_digest(data)
    assert packed.table_rows() == {"orders": 3, "empty": 0} == data.table_rows()
    assert packed.list_tables() == ["orders", "empty"]
    assert (packed.name, packed.id, packed.created_at) == (data.name, data.id, data.created_at)
    assert packed.data_parameters == {"week": 3}


def test_a_packed_dataset_reads_its_tables_from_the_payload() -> None:
    data = dataset()
    packed = pack(data)
    pd.testing.assert_frame_equal(packed.get_table("orders"), data.get_table("orders"))
    assert isinstance(packed.unpacked(), DataSource)
    # Pickled (sent from the child) without what it decoded.
    copy = pickle.loads(pickle.dumps(packed))
    assert copy._decoded is None and copy.to_arrow_bytes() == packed.to_arrow_bytes()


def big_dataset() -> DataSource:
    data = DataSource("orders")
    data.add_table("orders", pd.DataFrame({"id": range(300_000)}))  # a 2.4 MB payload
    return data


def test_pickled_at_any_protocol_the_payload_loads_as_bytes() -> None:
    packed = pack(big_dataset())
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        copy = pickle.loads(pickle.dumps(packed, protocol=protocol))
        assert type(copy.payload) is bytes and copy.payload == packed.payload
        assert copy.digest == packed.digest and copy._decoded is None


def test_the_child_sends_the_payload_out_of_band_and_the_pool_reads_it_back() -> None:
    # The payload travels as a message of its own, not copied into the pickle.
    packed = pack(big_dataset())
    count, head, *buffers = encode_answer(("ok", packed))
    size = len(packed.payload).to_bytes(8, "little")
    assert len(head) < 10_000 and len(buffers) == 1 and count == b"\x01\x00\x00\x00" + size
    assert bytes(buffers[0]) == packed.payload
    # Small bytes and numpy arrays (a workbook's frames) stay in the pickle.
    frame = pd.DataFrame({"x": range(300_000)})
    assert len(encode_answer(("ok", frame))) == 2
    ours, theirs = socket.socketpair()
    with Connection(ours.detach()) as sender, Connection(theirs.detach()) as receiver:
        thread = threading.Thread(target=send_answer, args=(sender, ("ok", packed)))
        thread.start()
        status, copy = recv_answer(receiver)
        thread.join()
        assert status == "ok" and type(copy.payload) is bytes
        assert copy.payload == packed.payload
        pd.testing.assert_frame_equal(copy.get_table("orders"), packed.get_table("orders"))
        sender.send_bytes(b"")  # the stream stays in step: the next message is read whole
        assert receiver.recv_bytes() == b""


def test_an_answer_cut_off_in_its_payload_ends_in_eof() -> None:
    # A child that dies while writing the payload: the server sees the end, not a hang.
    packed = pack(big_dataset())
    counts, head, _payload = encode_answer(("ok", packed))
    ours, theirs = socket.socketpair()
    with Connection(ours.detach()) as sender, Connection(theirs.detach()) as receiver:
        sender.send_bytes(counts)
        sender.send_bytes(head)
        sender.send_bytes(b"")  # a few bytes of the payload, then the child is gone
        sender.close()
        with pytest.raises(EOFError):
            recv_answer(receiver)


def test_an_answer_over_a_pipe_reads_its_payload_in_pieces() -> None:
    packed = pack(big_dataset())
    receiver, sender = multiprocessing.Pipe(duplex=False)  # os pipes, not sockets
    with receiver, sender:
        thread = threading.Thread(target=send_answer, args=(sender, ("ok", packed)))
        thread.start()
        status, copy = recv_answer(receiver)
        thread.join()
    assert status == "ok" and type(copy.payload) is bytes and copy.payload == packed.payload


def test_a_default_socket_timeout_leaves_the_connection_blocking() -> None:
    # The payload is read through a socket object made on the connection's descriptor;
    # with a process-wide default timeout that object would make it non-blocking, and
    # the connection's next read would fail instead of waiting.
    packed = pack(big_dataset())
    ours, theirs = socket.socketpair()
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(30)
    try:
        with Connection(ours.detach()) as sender, Connection(theirs.detach()) as receiver:
            thread = threading.Thread(target=send_answer, args=(sender, ("ok", packed)))
            thread.start()
            status, copy = recv_answer(receiver)
            thread.join()
            assert status == "ok" and copy.payload == packed.payload
            assert os.get_blocking(receiver.fileno())
    finally:
        socket.setdefaulttimeout(previous)
