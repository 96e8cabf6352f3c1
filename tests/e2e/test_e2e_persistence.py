"""Persistent state across real restarts: SIGTERM, SIGKILL mid-run, deletes on disk."""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from algomancy_core.scenario import INTERRUPTED
from algomancy_core.stores import SQLITE_FILE
from algomancy_example import sample_file
from tests.polling import scenario_status
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

API = "/api/v1"
Json = Any
StartServer = Callable[[Path], ServerProcess]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start `serve --example --data-path DIR` on a free port; every server started
    this way is stopped at the end, whatever happened."""
    started: list[ServerProcess] = []

    def start(data_path: Path) -> ServerProcess:
        server = ServerProcess(["--example", "--data-path", str(data_path)], tmp_path)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.kill()


def client(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=f"{server.base}{API}", timeout=30)


def ok(response: httpx.Response, status: int = 200) -> Json:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def upload_samples(api: httpx.Client, sid: str, dataset: str) -> list[str]:
    files = [
        ("files", (name, sample_file(name).read_bytes(), "application/octet-stream"))
        for name in ("sku_data.csv", "inventory.xlsx")
    ]
    body = ok(api.post(f"/sessions/{sid}/etl", data={"dataset_name": dataset}, files=files))
    assert body["success"] is True, body["messages"]
    return list(body["keys"])


def create_scenario(
    api: httpx.Client, sid: str, tag: str, algo: str, params: dict[str, Any] | None = None
) -> Json:
    body = {"tag": tag, "dataset_key": "Master data", "algo_name": algo, "algo_params": params}
    return ok(api.post(f"/sessions/{sid}/scenarios", json=body), 201)


def wait_for_status(api: httpx.Client, sid: str, scenario_id: str, wanted: set[str]) -> Json:
    """Poll until the scenario's status is one of `wanted`."""
    return scenario_status(api.get, f"/sessions/{sid}/scenarios/{scenario_id}", wanted)


def stop_cleanly(server: ServerProcess) -> None:
    """SIGTERM, and the server shuts down in order (uvicorn re-raises the signal
    after its shutdown, so the exit status is -SIGTERM rather than 0)."""
    assert server.stop() in (0, -signal.SIGTERM), server.log()
    assert "Application shutdown complete" in server.log(), server.log()


def snapshot(api: httpx.Client) -> dict[str, Any]:
    """Everything a client can read: sessions, datasets in full, scenarios in full,
    the KPI comparison frame of every session."""
    listing = ok(api.get("/sessions"))
    state: dict[str, Any] = {"sessions": listing, "per_session": {}}
    for session in listing["sessions"]:
        sid = session["id"]
        keys = ok(api.get(f"/sessions/{sid}/data"))["keys"]
        state["per_session"][sid] = {
            "datasets": {key: ok(api.get(f"/sessions/{sid}/data/{key}")) for key in keys},
            "dataset_keys": keys,
            "scenarios": ok(api.get(f"/sessions/{sid}/scenarios")),
            "kpi_frame": ok(api.get(f"/sessions/{sid}/kpis/frame")),
        }
    return state


def test_sigterm_restart_keeps_everything(tmp_path: Path, start_server: StartServer) -> None:
    data_path = tmp_path / "state"
    server = start_server(data_path)
    with client(server) as api:
        main = ok(api.get("/sessions"))["default"]
        other = ok(api.post("/sessions", json={"display_name": "what-if"}), 201)["session"]
        renamed = ok(api.patch(f"/sessions/{other['id']}", json={"display_name": "renamed"}))
        assert renamed == {"id": other["id"], "display_name": "renamed"}
        assert "uploaded" in upload_samples(api, main, "uploaded")
        upload_samples(api, other["id"], "theirs")
        derived = ok(api.post(f"/sessions/{main}/data/uploaded/derive", json={"new_key": "d"}), 201)
        assert "d" in derived["keys"]

        done = create_scenario(api, main, "abc", "ABC slotting", {"policy": "class_based"})
        waiting = create_scenario(api, main, "later", "Slow", {"duration": 7})
        create_scenario(api, other["id"], "theirs-random", "Random slotting")
        ok(api.post(f"/sessions/{main}/scenarios/{done['id']}/run"), 202)
        wait_for_status(api, main, done["id"], {"complete"})
        complete = ok(api.get(f"/sessions/{main}/scenarios/{done['id']}"))
        assert complete["result"] and all(k["value"] is not None for k in complete["kpis"].values())
        before = snapshot(api)

    stop_cleanly(server)
    server = start_server(data_path)
    with client(server) as api:
        after = snapshot(api)
        assert after == before
        # Spot checks of what `==` covered, so a failure reads plainly.
        names = {s["id"]: s["display_name"] for s in after["sessions"]["sessions"]}
        assert names[other["id"]] == "renamed" and names[main] == "main"
        scenarios = {s["id"]: s for s in after["per_session"][main]["scenarios"]}
        assert scenarios[done["id"]] == complete
        assert scenarios[waiting["id"]]["status"] == "created"
        assert scenarios[waiting["id"]]["algorithm"]["parameters"][0]["value"] == 7
        assert after["per_session"][main]["dataset_keys"] == ["Master data", "uploaded", "d"]
        # The restored state is live, not a read-only copy: the restored scenario runs.
        ok(api.post(f"/sessions/{main}/scenarios/{done['id']}/run"), 202)
        wait_for_status(api, main, done["id"], {"complete"})
        rerun = ok(api.get(f"/sessions/{main}/scenarios/{done['id']}"))
        assert rerun["kpis"] == complete["kpis"]


def test_sigkill_mid_run_fails_the_run_and_keeps_the_rest(
    tmp_path: Path, start_server: StartServer
) -> None:
    data_path = tmp_path / "state"
    server = start_server(data_path)
    with client(server) as api:
        sid = ok(api.get("/sessions"))["default"]
        upload_samples(api, sid, "uploaded")
        done = create_scenario(api, sid, "abc", "ABC slotting")
        ok(api.post(f"/sessions/{sid}/scenarios/{done['id']}/run"), 202)
        wait_for_status(api, sid, done["id"], {"complete"})
        long = create_scenario(api, sid, "long", "Slow", {"duration": 30})
        short = create_scenario(api, sid, "short", "Slow", {"duration": 1})
        ok(api.post(f"/sessions/{sid}/scenarios/{long['id']}/run"), 202)
        wait_for_status(api, sid, long["id"], {"processing"})
        ok(api.post(f"/sessions/{sid}/scenarios/{short['id']}/run"), 202)
        # One run per session: the short one waits behind the long one.
        assert ok(api.get(f"/sessions/{sid}/scenarios/{short['id']}/status"))["status"] == "queued"
        before = snapshot(api)

    server.kill()
    server = start_server(data_path)
    with client(server) as api:
        failed = wait_for_status(api, sid, long["id"], {"failed", "complete"})
        assert failed["status"] == "failed"
        interrupted = ok(api.get(f"/sessions/{sid}/scenarios/{long['id']}"))
        assert interrupted["error"] == INTERRUPTED
        assert interrupted["finished_at"] is not None and interrupted["result"] is None
        # The queued run was not lost: it runs now, on the new server.
        wait_for_status(api, sid, short["id"], {"complete"})
        after = snapshot(api)

    assert after["sessions"] == before["sessions"]
    assert after["per_session"][sid]["datasets"] == before["per_session"][sid]["datasets"]
    old = {s["id"]: s for s in before["per_session"][sid]["scenarios"]}
    new = {s["id"]: s for s in after["per_session"][sid]["scenarios"]}
    assert new.keys() == old.keys()
    assert new[done["id"]] == old[done["id"]]
    assert new[done["id"]]["kpis"]["throughput"]["value"] > 0
    assert new[long["id"]]["started_at"] == old[long["id"]]["started_at"]
    assert new[short["id"]]["status"] == "complete" and new[short["id"]]["error"] is None


def count_rows(database: Path, table: str, column: str, value: str) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        query = f"SELECT COUNT(*) FROM {table} WHERE {column} = ?"  # names are ours
        return int(conn.execute(query, (value,)).fetchone()[0])


def test_deleted_data_is_gone_from_the_file(tmp_path: Path, start_server: StartServer) -> None:
    data_path = tmp_path / "state"
    database = data_path / SQLITE_FILE
    server = start_server(data_path)
    with client(server) as api:
        main = ok(api.get("/sessions"))["default"]
        upload_samples(api, main, "uploaded")
        doomed = ok(api.post("/sessions", json={"display_name": "doomed"}), 201)["session"]["id"]
        upload_samples(api, doomed, "theirs")
        scenario = create_scenario(api, doomed, "abc", "ABC slotting")
        ok(api.post(f"/sessions/{doomed}/scenarios/{scenario['id']}/run"), 202)
        wait_for_status(api, doomed, scenario["id"], {"complete"})

        # Rows are on disk before the deletes, so a zero afterwards means something.
        assert count_rows(database, "datasets", "key", "uploaded") == 1
        assert count_rows(database, "datasets", "session_id", doomed) == 2
        assert count_rows(database, "scenarios", "session_id", doomed) == 1

        ok(api.delete(f"/sessions/{main}/data/uploaded"), 204)
        ok(api.delete(f"/sessions/{doomed}"))
        assert api.get(f"/sessions/{doomed}/data").status_code == 404
        assert api.get(f"/sessions/{main}/data/uploaded").status_code == 404
    stop_cleanly(server)

    assert count_rows(database, "datasets", "key", "uploaded") == 0
    assert count_rows(database, "sessions", "id", doomed) == 0
    assert count_rows(database, "datasets", "session_id", doomed) == 0
    assert count_rows(database, "scenarios", "session_id", doomed) == 0
    assert count_rows(database, "scenarios", "id", scenario["id"]) == 0
    # The untouched dataset of the surviving session is still there.
    assert count_rows(database, "datasets", "session_id", main) == 1
