"""The waits' deadline, shared by both clients (`algomancy_api.client.deadline`)."""

from __future__ import annotations

import httpx
import pytest

from algomancy_api.client import AlgomancyClient
from algomancy_api.client.deadline import Deadline


def test_the_read_timeout_is_the_timeout_within_the_keep_alive_bounds() -> None:
    assert Deadline("s", None).read_timeout() == 30.0
    assert Deadline("s", 600).read_timeout() == 30.0
    assert Deadline("s", 5).read_timeout() == 5
    assert Deadline("s", 0.01).read_timeout() == 0.1


def test_a_passed_deadline_raises_and_none_never_does() -> None:
    Deadline("s", None).check()
    Deadline("s", 3600).check()
    with pytest.raises(TimeoutError, match="scenario abc did not finish in -1 s"):
        Deadline("scenario abc", -1).check()


def running_experiment(request: httpx.Request) -> httpx.Response:
    """An experiment that never ends, as the server would answer it."""
    return httpx.Response(
        200,
        json={
            "id": "e1",
            "name": "sweep",
            "status": "running",
            "counts": {"planned": 2, "queued": 2},
            "axes": ["x"],
            "scenario_ids": [],
            "base": {},
            "design": {},
            "created_at": "2026-12-06T00:00:00Z",
        },
    )


def test_wait_experiment_gives_up_at_its_timeout_naming_the_experiment() -> None:
    http = httpx.Client(
        base_url="http://testserver", transport=httpx.MockTransport(running_experiment)
    )
    with (
        AlgomancyClient("http://testserver", http=http) as client,
        pytest.raises(TimeoutError, match=r"experiment e1 did not finish in 0\.05 s"),
    ):
        client.wait_experiment("e1", timeout=0.05, interval=0.01)
