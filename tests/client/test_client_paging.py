"""The clients' scenario list pages with `limit`/`offset` (sync and async alike)."""

from __future__ import annotations

import pytest

from algomancy_example.domain import MASTER_DATA
from tests.client.test_client import KINDS, Either, drive
from tests.server import ServerProcess

#: Against a real server process.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", KINDS)
def test_the_scenario_list_pages(kind: str, example_server: ServerProcess) -> None:
    async def body(api: Either) -> None:
        for tag in ("a", "b", "c"):
            await api.create_scenario(tag, MASTER_DATA, "ABC slotting")
        assert [s.tag for s in await api.scenarios()] == ["a", "b", "c"]
        assert [s.tag for s in await api.scenarios(limit=2)] == ["a", "b"]
        assert [s.tag for s in await api.scenarios(limit=1, offset=1)] == ["b"]
        assert [s.tag for s in await api.scenarios(offset=2)] == ["c"]
        assert await api.scenarios(offset=3) == []

    drive(kind, example_server, body)
