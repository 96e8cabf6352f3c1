"""Two server processes on one PostgreSQL database: SIGKILL the one whose driver holds
a study's lease at about trial 30, and the OTHER process (not restarted) takes the study
over and ends it with exactly its budget, each trial number on one scenario, and no
storage error logged by either server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.pg import postgres_server, postgres_url  # noqa: F401
from tests.polling import wait_for
from tests.server import ROOT, ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

API = "/api/v1"
N_TRIALS = 60
KILL_AT = 30
FINAL = {"complete", "failed", "pruned"}
#: The example with short leases, so that nothing in the test waits for a long one
#: (on one host the survivor sees a dead owner at once anyway: `owner_is_dead`).
CONFIG = """
from algomancy_example.domain import example_settings

cfg = example_settings(lease_seconds={lease})
"""
LEASE_SECONDS = 3.0
#: What a storage or driver failure would leave in a server's log.
FORBIDDEN = (
    "Traceback",
    "database is locked",
    "has already finished",
    "study driver tick failed",
    "the step failed",
)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def study_lease_owner(database_url: str, study_id: str) -> str | None:
    """The `host:pid:token` driver holding the study's lease, read from the database
    (no route shows it: it is the drivers' business)."""
    url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT lease_owner FROM studies WHERE id = %s", (study_id,)).fetchone()
    assert row is not None, study_id
    return None if row[0] is None else str(row[0])


def owner_pid(owner: str) -> int:
    return int(owner.split(":")[1])


def test_the_other_server_takes_a_study_over_after_a_sigkill(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811 - the fixture
) -> None:
    (tmp_path / "takeover_config.py").write_text(CONFIG.format(lease=LEASE_SECONDS))
    env = {"PYTHONPATH": f"{ROOT}:{tmp_path}"}
    args = ["--config", "takeover_config:cfg", "--database-url", postgres_url]
    servers = [ServerProcess(args, tmp_path, env=env) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        pids = [s.process.pid for s in servers if s.process is not None]
        a, b = (httpx.Client(base_url=f"{s.base}{API}", timeout=30) for s in servers)
        with a, b:
            sid = ok(a.get("/sessions"))["default"]
            body = {
                "name": "takeover",
                "base": {"algo_name": "Batch picking", "dataset_key": "Master data"},
                "space": [{"name": "batch_size"}, {"name": "fill_limit"}],
                "objectives": [{"kpi": "travel_distance"}],
                "sampler": "random",
                "seed": 11,
                "n_trials": N_TRIALS,
                "parallel": 2,
            }
            study = ok(a.post(f"/sessions/{sid}/studies", json=body), 201)
            path = f"/sessions/{sid}/studies/{study['id']}"
            wait_for(
                lambda: ok(a.get(path))["counts"]["budgeted"],
                lambda asked: asked >= KILL_AT,
                timeout=120,
                what=f"{KILL_AT} trials asked",
            )
            owner = wait_for(
                lambda: study_lease_owner(postgres_url, study["id"]),
                bool,
                timeout=30,
                what="the study's driver",
            )
            assert owner is not None and owner_pid(owner) in pids, (owner, pids)
            driver = pids.index(owner_pid(owner))
            before = ok(a.get(path))
            servers[driver].kill()
            survivor = servers[1 - driver]
            api = (a, b)[1 - driver]
            assert before["status"] == "running", before
            assert before["counts"]["budgeted"] < N_TRIALS, before
            done = wait_for(
                lambda: ok(api.get(path)),
                lambda s: s["status"] != "running",
                timeout=180,
                what="the study ended by the other server",
            )
            trials = ok(api.get(f"{path}/trials"))["rows"]
            scenarios = ok(api.get(f"/sessions/{sid}/scenarios", params={"view": "summary"}))
    finally:
        for server in servers:
            server.stop()
    assert done["status"] == "complete" and done["ended_by"] == "trials", done
    assert done["counts"]["budgeted"] == N_TRIALS and done["counts"]["running"] == 0, done
    assert [t["number"] for t in trials] == list(range(N_TRIALS))
    assert {t["state"] for t in trials} <= FINAL, [t["state"] for t in trials]
    ids = [t["scenario_id"] for t in trials if t["scenario_id"] is not None]
    assert len(ids) == len(set(ids))
    # Every trial's scenario is the one tagged with its number; no trial number has a
    # second scenario (a driver that made one and died would leave it tagged too).
    tagged = {s["tag"]: s["id"] for s in scenarios if s["tag"].startswith("takeover-")}
    numbered = {f"takeover-{t['number']}": t["scenario_id"] for t in trials if t["scenario_id"]}
    assert tagged == numbered
    # Asked after the kill: the survivor drove at least the rest of the budget.
    assert before["counts"]["budgeted"] < len(trials)
    for server in servers:
        log = server.log()
        for text in FORBIDDEN:
            assert text not in log, (text, log[-4000:])
    # The survivor's driver ended it; the killed one never did.
    ended = f"study {study['id']} ended (trials)"
    assert ended in survivor.log() and ended not in servers[driver].log()
