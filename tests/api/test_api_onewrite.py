"""`StartWithBody` (`algomancy_api.onewrite`): an answer's headers go out in one
write with its body; a streamed answer's headers go out at the next step of the loop;
nothing is reordered, and nothing is written to a closing transport. Through the
server's own protocol class (`slowclients.AutoHTTPProtocol`) on a recording
transport: no socket, no timing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.server import ServerState

from algomancy_api.onewrite import StartWithBody
from algomancy_api.slowclients import AutoHTTPProtocol

REQUEST = b"GET /x HTTP/1.1\r\nHost: testserver\r\n\r\n"


class Recording:
    """A transport that records what is written, and how."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, parts: Any) -> None:
        self.calls.append(("writelines", b"".join(parts)))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True
        self.calls.append(("close", b""))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def served(app: Any, transport: Recording, until: asyncio.Event | None = None) -> None:
    """`REQUEST` through the server's protocol class on `transport`, until the
    answer is complete."""
    config = uvicorn.Config(app, lifespan="off", access_log=False, log_config=None)
    config.load()
    protocol = AutoHTTPProtocol(  # type: ignore[call-arg]
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    protocol.connection_made(transport)  # type: ignore[arg-type]
    protocol.data_received(REQUEST)
    assert isinstance(protocol.transport, StartWithBody)  # type: ignore[attr-defined]
    cycle = protocol.cycle  # type: ignore[attr-defined]
    if until is not None:
        await until.wait()
    await asyncio.wait_for(cycle.message_event.wait(), timeout=30)
    protocol.connection_lost(None)


async def whole(scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]}
    )
    await send({"type": "http.response.body", "body": b"hello"})


def test_headers_and_body_go_out_in_one_write() -> None:
    transport = Recording()
    asyncio.run(served(whole, transport))
    kinds = [kind for kind, _ in transport.calls]
    assert kinds == ["writelines", "close"]  # closed by connection_lost
    written = transport.calls[0][1]
    assert written.startswith(b"HTTP/1.1 200 OK\r\n") and written.endswith(b"\r\n\r\nhello")


def test_a_streamed_answers_headers_go_out_before_its_first_chunk() -> None:
    """The headers are written at the next step of the loop, while the body waits."""
    transport = Recording()
    seen: list[list[str]] = []

    async def run() -> None:
        go, done = asyncio.Event(), asyncio.Event()

        async def streamed(scope: Scope, receive: Receive, send: Send) -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await asyncio.sleep(0)  # one step: the held headers are written
            seen.append([kind for kind, _ in transport.calls])
            await go.wait()
            await send({"type": "http.response.body", "body": b"a", "more_body": True})
            await send({"type": "http.response.body", "body": b"b"})
            done.set()

        task = asyncio.create_task(served(streamed, transport, until=done))
        while not seen:
            await asyncio.sleep(0)
        go.set()
        await task

    asyncio.run(run())
    assert seen == [["write"]]
    kinds = [kind for kind, _ in transport.calls]
    assert kinds == ["write", "write", "write", "close"]
    assert transport.calls[0][1].startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"".join(data for _, data in transport.calls[1:3]) == b"1\r\na\r\n1\r\nb\r\n0\r\n\r\n"


@pytest.mark.parametrize("closing", [False, True])
def test_held_bytes_are_written_before_a_close_and_never_to_a_closing_transport(
    closing: bool,
) -> None:
    async def run() -> Recording:
        transport = Recording()
        held = StartWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        held.hold_next()
        held.write(b"head")
        transport.closing = closing
        held.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing held
        return transport

    transport = asyncio.run(run())
    if closing:
        assert transport.calls == [("close", b"")]
    else:
        assert transport.calls == [("write", b"head"), ("close", b"")]


def test_only_the_write_after_hold_next_is_held_and_nothing_overtakes_it() -> None:
    async def run() -> Recording:
        transport = Recording()
        writes = StartWithBody(transport, asyncio.get_running_loop())  # type: ignore[arg-type]
        writes.write(b"a")  # not asked to hold: written at once
        writes.hold_next()
        writes.write(b"b")
        writes.writelines([b"c", b"d"])  # goes out after, with the held bytes
        writes.write(b"e")
        await asyncio.sleep(0)
        return transport

    transport = asyncio.run(run())
    assert transport.calls == [("write", b"a"), ("writelines", b"bcd"), ("write", b"e")]
