"""A study across a real SIGKILL of its driver's server and a restart on the same
SQLite data: it ends with exactly its budget, no trial number on two scenarios, and no
storage error logged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.polling import wait_for
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

API = "/api/v1"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_a_study_survives_a_sigkill_of_its_server(tmp_path: Path) -> None:
    data_path = tmp_path / "state"
    first = ServerProcess(["--example", "--data-path", str(data_path)], tmp_path).start()
    try:
        with httpx.Client(base_url=f"{first.base}{API}", timeout=30) as api:
            sid = ok(api.get("/sessions"))["default"]
            body = {
                "name": "killed",
                "base": {"algo_name": "Slow", "dataset_key": "Master data"},
                "space": [{"name": "duration", "min": 1, "max": 3}],
                "objectives": [{"kpi": "travel_distance"}],
                "sampler": "random",
                "seed": 4,
                "n_trials": 5,
            }
            study = ok(api.post(f"/sessions/{sid}/studies", json=body), 201)
            path = f"/sessions/{sid}/studies/{study['id']}"
            # Trials run in the study's batch (`GET …/processing` shows only the
            # session's own scenarios): a trial's scenario processing, read from the list.
            wait_for(
                lambda: [
                    s
                    for s in ok(api.get(f"/sessions/{sid}/scenarios", params={"view": "summary"}))
                    if s["status"] == "processing"
                ],
                bool,
                timeout=60,
                what="a trial processing",
            )
            before = ok(api.get(path))
    finally:
        first.kill()
    assert before["status"] == "running"
    second = ServerProcess(["--example", "--data-path", str(data_path)], tmp_path).start()
    try:
        with httpx.Client(base_url=f"{second.base}{API}", timeout=30) as api:
            done = wait_for(
                lambda: ok(api.get(path)),
                lambda s: s["status"] == "complete",
                timeout=120,
                what="the study complete",
            )
            trials = ok(api.get(f"{path}/trials"))["rows"]
    finally:
        second.stop()
    assert done["counts"]["budgeted"] == 5 and done["counts"]["running"] == 0
    assert [t["number"] for t in trials] == list(range(5))
    ids = [t["scenario_id"] for t in trials if t["scenario_id"] is not None]
    assert len(ids) == len(set(ids))
    for server in (first, second):
        log = server.log()
        assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
