"""An app over the core test domain, and a client for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from algomancy_api import ApiConfiguration, ApiLauncher
from algomancy_api.middleware.sitecheck import LOOPBACK_HOSTS
from tests.core.conftest import GATE, Broken, Gate, Gated, Instant, Total, items

PREFIX = "/api/v1"
#: TestClient's Host and the loopback names; the default serves only the latter.
TEST_HOSTS = ["testserver", *LOOPBACK_HOSTS]


def api_config(**overrides: Any) -> ApiConfiguration:
    values: dict[str, Any] = {
        "algorithms": [Instant, Gated, Broken],
        "kpis": [Total],
        "initial_datasets": lambda: {"Master data": items()},
        "max_workers": 2,
        "allowed_hosts": TEST_HOSTS,
    }
    values.update(overrides)
    return ApiConfiguration(**values)


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        app = ApiLauncher.build(api_config(**overrides))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client()


@pytest.fixture
def gate() -> Iterator[Gate]:
    import tests.core.conftest as domain

    GATE.release.set()
    domain.GATE = Gate()
    yield domain.GATE
    domain.GATE.release.set()
