"""How the clients read an answer's JSON: the scenario list by pydantic straight from
the bytes (`Call.from_json`), the rest with orjson; never the stdlib's `response.json()`."""

from __future__ import annotations

import asyncio
from typing import Any, NoReturn

import httpx
import orjson
import pytest

from algomancy_api.client import AlgomancyClient, AsyncAlgomancyClient
from algomancy_api.client.routes import _scenarios

SCENARIO = {
    "id": "s1",
    "tag": "a",
    "input_data_id": "Master data",
    "algorithm": {"name": "Instant", "parameters": [{"name": "count", "value": 1}]},
    "status": "complete",
    "created_at": "2026-01-01T00:00:00+00:00",
    "kpis": {"cost": {"name": "cost", "value": 1.5, "unit": "EUR", "better_when": "lower"}},
    "baseline": True,
}
SESSIONS = {"sessions": [], "default": "s"}


def answer(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/scenarios"):
        return httpx.Response(200, content=orjson.dumps([SCENARIO, SCENARIO | {"id": "s2"}]))
    return httpx.Response(200, content=orjson.dumps(SESSIONS))


def no_stdlib_json(self: httpx.Response, **kwargs: Any) -> NoReturn:
    raise AssertionError("the client read an answer with response.json()")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_answers_are_read_without_the_stdlib_json(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(httpx.Response, "json", no_stdlib_json)
    expected = _scenarios.validate_python([SCENARIO, SCENARIO | {"id": "s2"}])
    transport = httpx.MockTransport(answer)
    if kind == "sync":
        with AlgomancyClient(
            "http://test", http=httpx.Client(base_url="http://test", transport=transport)
        ) as client:
            listed, sessions = client.scenarios(), client.sessions()
    else:

        async def read() -> tuple[Any, Any]:
            http = httpx.AsyncClient(base_url="http://test", transport=transport)
            async with AsyncAlgomancyClient("http://test", http=http) as client:
                return await client.scenarios(), await client.sessions()

        listed, sessions = asyncio.run(read())
    assert listed == expected
    assert [s.baseline for s in listed] == [True, True]
    assert sessions.sessions == []
