"""Work handed to a worker thread has a deadline and stops when the client leaves
(`algomancy_api.deadlines`, issue 21); the ETL route uses it (`etl_timeout_seconds`)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException

from algomancy_api.deadlines import ClientLeft, run_bounded
from tests.polling import wait_for

from .conftest import PREFIX, ClientFactory
from .test_api_data import ITEMS

M = f"{PREFIX}/sessions/main"


class FakeRequest:
    """Only what `run_bounded` reads: `receive`, which reports a disconnect once
    `leave` is set (never, if it is not)."""

    def __init__(self) -> None:
        self.leave = threading.Event()

    async def receive(self) -> dict[str, Any]:
        await anyio.to_thread.run_sync(self.leave.wait, abandon_on_cancel=True)
        return {"type": "http.disconnect"}


def waits_for_stop(seen: list[str], stop: threading.Event, started: threading.Event) -> str:
    started.set()
    stop.wait(60)
    seen.append("stopped" if stop.is_set() else "not stopped")
    return "done"


def test_the_result_comes_back() -> None:
    async def scenario() -> str:
        request = FakeRequest()
        try:
            return await run_bounded(
                request,  # type: ignore[arg-type]
                30,
                "x_seconds",
                lambda a, stop: a * 2,
                "ab",
            )
        finally:
            request.leave.set()

    assert asyncio.run(scenario()) == "abab"


def test_an_error_of_the_work_is_raised_as_it_is() -> None:
    def fails(stop: threading.Event) -> None:
        raise ValueError("bad input")

    async def scenario() -> None:
        request = FakeRequest()
        try:
            await run_bounded(request, 30, "x_seconds", fails)  # type: ignore[arg-type]
        finally:
            request.leave.set()

    with pytest.raises(ValueError, match="bad input"):
        asyncio.run(scenario())


def test_past_the_deadline_503_names_the_field_and_the_work_is_told_to_stop() -> None:
    seen: list[str] = []

    async def scenario() -> None:
        request = FakeRequest()
        try:
            await run_bounded(
                request,  # type: ignore[arg-type]
                0.05,
                "etl_timeout_seconds",
                lambda seen, stop: waits_for_stop(seen, stop, threading.Event()),
                seen,
            )
        finally:
            request.leave.set()

    with pytest.raises(HTTPException) as raised:
        asyncio.run(scenario())
    assert raised.value.status_code == 503
    assert "etl_timeout_seconds" in raised.value.detail
    assert wait_for(lambda: seen) == ["stopped"]


def test_a_client_that_leaves_stops_the_work() -> None:
    seen: list[str] = []

    async def scenario() -> None:
        request = FakeRequest()
        # The client leaves once the work has started.
        await run_bounded(
            request,  # type: ignore[arg-type]
            60,
            "x_seconds",
            lambda seen, stop: waits_for_stop(seen, stop, request.leave),
            seen,
        )

    with pytest.raises(ClientLeft):
        asyncio.run(scenario())
    assert wait_for(lambda: seen) == ["stopped"]


def test_an_etl_past_its_deadline_is_503_and_stores_nothing(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from algomancy_api.routers import etl as etl_route

    release = threading.Event()
    real = etl_route.file_for

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(etl_route, "file_for", slow_read)
    client: TestClient = make_client(etl_timeout_seconds=0.2)
    files = [("files", ("items.csv", b"sku,qty\nA,1\n")), ("files", ("stock.csv", b"sku\nA\n"))]
    r = client.post(f"{M}/etl", data={"dataset_name": "late"}, files=files)
    release.set()
    assert r.status_code == 503
    assert "etl_timeout_seconds" in r.json()["detail"]
    assert "late" not in client.get(f"{M}/data").json()["keys"]


def test_an_etl_that_outlives_its_deadline_stores_nothing_when_it_ends(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files are read in time; the ETL itself runs past the deadline. A thread
    cannot be stopped mid-ETL, so the check comes after it: the 503 already said
    nothing is stored, and nothing is, when the ETL ends later."""
    from algomancy_api.routers import etl as etl_route
    from algomancy_data.etl import ETLFactory

    release = threading.Event()
    done = threading.Event()
    real_run, real_etl = ETLFactory.run, etl_route._etl

    def slow_run(self: ETLFactory, *args: Any, **kwargs: Any) -> Any:
        release.wait(60)
        return real_run(self, *args, **kwargs)

    def watched_etl(*args: Any, **kwargs: Any) -> Any:
        try:
            return real_etl(*args, **kwargs)
        finally:
            done.set()  # the worker thread is through: stored or not, it is decided

    monkeypatch.setattr(ETLFactory, "run", slow_run)
    monkeypatch.setattr(etl_route, "_etl", watched_etl)
    client: TestClient = make_client(schemas=[ITEMS], etl_timeout_seconds=0.2)
    files = [("files", ("items.csv", b"sku,qty\nA,1\n", "text/csv"))]
    r = client.post(f"{M}/etl", data={"dataset_name": "late"}, files=files)
    assert r.status_code == 503
    release.set()
    assert done.wait(30)
    assert "late" not in client.get(f"{M}/data").json()["keys"]
    # The same upload in time is stored: the ETL above would have succeeded.
    monkeypatch.setattr(ETLFactory, "run", real_run)
    r = client.post(f"{M}/etl", data={"dataset_name": "late"}, files=files)
    assert r.status_code == 200, r.text
    assert "late" in client.get(f"{M}/data").json()["keys"]


def test_the_etl_deadline_must_be_positive(make_client: ClientFactory) -> None:
    from algomancy_api import ApiConfiguration
    from algomancy_core import ConfigurationError

    with pytest.raises(ConfigurationError, match="etl_timeout_seconds"):
        ApiConfiguration(etl_timeout_seconds=0)
