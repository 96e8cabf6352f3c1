"""The reference algomancy-api's behaviour, checked against our example domain.

These tests are written from the reference's own HTTP tests (their names say which
behaviour they pin), not copied from them. Where the reference departs from seed 002
the seed wins, and the test says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiLauncher
from algomancy_api.example import build_example_config
from algomancy_api.middleware.sitecheck import LOOPBACK_HOSTS

PREFIX = "/api/v1"
MAIN = f"{PREFIX}/sessions/main"
#: TestClient's Host and the loopback names; the default serves only the latter.
TEST_HOSTS = ["testserver", *LOOPBACK_HOSTS]

ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    """A client of the example domain in memory; keyword arguments override fields."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        values = {"allowed_hosts": TEST_HOSTS} | overrides
        config = build_example_config(has_persistent_state=False, **values)
        client = TestClient(ApiLauncher.build(config), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()
