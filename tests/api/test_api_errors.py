"""Genuine faults answer 500 with a detail and a logged traceback; blocking work
stays off the event loop."""

from __future__ import annotations

import logging
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from algomancy_core import ScenarioManager

from .conftest import ClientFactory
from .test_api_events import ThreadServer


def test_unexpected_errors_are_500_and_logged(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client: TestClient = make_client()

    @client.app.get("/boom")  # type: ignore[attr-defined, misc]
    def boom() -> None:
        raise RuntimeError("disk on fire")

    with caplog.at_level(logging.ERROR, logger="algomancy.api"):
        r = client.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal server error"}
    assert "disk on fire" in caplog.text and "Traceback" in caplog.text


def test_polls_answer_while_an_etl_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ETL blocks until the test lets it go; meanwhile the loop serves polls."""
    entered, release = threading.Event(), threading.Event()
    original = ScenarioManager.etl_version

    def slow_etl(
        self: ScenarioManager, files: object, dataset_name: str, **options: object
    ) -> object:
        entered.set()
        release.wait(30)
        return original(self, files, dataset_name, **options)  # type: ignore[arg-type]

    # The route's call: the ETL and the version it stored.
    monkeypatch.setattr(ScenarioManager, "etl_version", slow_etl)
    with ThreadServer() as server:
        scenario_id = httpx.post(
            f"{server.base}/scenarios",
            json={"tag": "p", "dataset_key": "Master data", "algo_name": "Instant"},
        ).json()["id"]
        results: list[httpx.Response] = []
        upload = threading.Thread(
            target=lambda: results.append(
                httpx.post(
                    f"{server.base}/etl",
                    data={"dataset_name": "x"},
                    files=[("files", ("items.csv", b"qty\n1\n", "text/csv"))],
                    timeout=30,
                )
            )
        )
        upload.start()
        try:
            assert entered.wait(10)
            # A blocked loop would time these out.
            for _ in range(5):
                poll = httpx.get(f"{server.base}/scenarios/{scenario_id}/status", timeout=2)
                assert poll.status_code == 200
            assert httpx.get(f"{server.base.rsplit('/sessions', 1)[0]}/sessions", timeout=2)
        finally:
            release.set()
            upload.join(30)
        assert results and results[0].status_code == 200
