"""Real servers: `/metrics` from gunicorn with 2 workers (`-c
python:algomancy_api.gunicorn_conf`) and from `serve --workers 2` (every scrape,
whichever worker answers it, sums both workers' counts); request ids in the log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from algomancy_api.cli import ENV_OVERRIDES, ENV_SPEC, EXAMPLE
from tests.polling import scenario_status, wait_for
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

API = "/api/v1"
POLLS = 20
STATUS_ROUTE = f"{API}/sessions/{{session_id}}/scenarios/{{scenario_id}}/status"
ETL_FILE = Path(__file__).resolve().parents[2] / "algomancy_example" / "data"


def sample(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def fresh(server: ServerProcess) -> httpx.Client:
    """A new connection per request, so that requests spread over both workers."""
    return httpx.Client(
        base_url=server.base,
        timeout=30,
        headers={"Connection": "close"},
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def test_metrics_from_two_gunicorn_workers(tmp_path: Path) -> None:
    multiproc = tmp_path / "metrics"
    overrides = {"has_persistent_state": True, "data_path": str(tmp_path / "state")}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:algomancy_api.gunicorn_conf",
        "-w",
        "2",
        "--no-control-socket",
        "--graceful-timeout",
        "5",
        "--bind",
        "127.0.0.1:{port}",
        "algomancy_api.cli:app_from_environment()",
    ]
    env = {
        ENV_SPEC: EXAMPLE,
        ENV_OVERRIDES: json.dumps(overrides),
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
    }
    with ServerProcess([], tmp_path, env=env, command=command) as server, fresh(server) as api:
        sid = api.get(f"{API}/sessions").json()["default"]
        body = {"tag": "m1", "dataset_key": "Master data", "algo_name": "ABC slotting"}
        created = api.post(f"{API}/sessions/{sid}/scenarios", json=body)
        assert created.status_code == 201, created.text
        path = f"{API}/sessions/{sid}/scenarios/{created.json()['id']}"
        assert api.post(f"{path}/run").status_code == 202
        scenario_status(api.get, path, {"complete", "failed"})
        for _ in range(POLLS):
            r = api.get(f"{path}/status")
            assert r.status_code == 200
        upload = sorted(p for p in ETL_FILE.iterdir() if p.suffix == ".csv")[0]
        etl = api.post(
            f"{API}/sessions/{sid}/etl",
            data={"dataset_name": "uploaded"},
            files=[("files", (upload.name, upload.read_bytes(), "text/csv"))],
        )
        assert etl.status_code == 200, etl.text
        # The upload's gauge goes down once its worker has finished the answer, which
        # may come just after the client has it: wait for it before the checks.
        wait_for(
            lambda: sample(api.get("/metrics").text, "algomancy_uploads_in_flight"),
            lambda in_flight: in_flight == 0,
            what="the ETL upload no longer in flight",
        )
        scrapes = [api.get("/metrics") for _ in range(6)]
        for scrape in scrapes:
            assert scrape.status_code == 200
            text = scrape.text
            # At least the polls above (the wait for the run polled too).
            status_polls = sample(
                text,
                "algomancy_http_requests_total",
                method="GET",
                route=STATUS_ROUTE,
                status="200",
            )
            assert status_polls >= POLLS
            assert (
                sample(text, "algomancy_runs_total", algorithm="ABC slotting", outcome="complete")
                == 1
            )
            assert sample(text, "algomancy_run_queue_seconds_count", algorithm="ABC slotting") == 1
            etl_outcome = "success" if etl.json()["success"] else "failed"
            assert sample(text, "algomancy_etl_uploads_total", outcome=etl_outcome) == 1
            assert sample(text, "algomancy_scenarios", status="complete") == 1
            assert sample(text, "algomancy_uploads_in_flight") == 0
        # Both workers write their values to files of their own in the one folder.
        pids = {p.stem.rsplit("_", 1)[-1] for p in multiproc.glob("gauge_livesum_*.db")}
        assert len(pids) == 2, pids
        # Same answers from whichever worker: counters summed over both.
        counts = {
            sample(s.text, "algomancy_http_requests_total", route=STATUS_ROUTE, status="200")
            for s in scrapes
        }
        assert len(counts) == 1


def test_metrics_from_serve_with_two_workers(tmp_path: Path) -> None:
    """`serve --workers 2` sets the multiprocess folder up itself (and removes it)."""
    requests = 12
    args = ["--example", "--data-path", str(tmp_path / "state"), "--workers", "2"]
    with ServerProcess(args, tmp_path) as server, fresh(server) as api:
        for _ in range(requests):
            assert api.get(f"{API}/sessions").status_code == 200
        for _ in range(4):
            text = api.get("/metrics").text
            listed = sample(
                text, "algomancy_http_requests_total", route=f"{API}/sessions", status="200"
            )
            assert listed == requests


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_lines_of_serve_carry_the_answers_request_id(tmp_path: Path, log_format: str) -> None:
    args = ["--example", "--in-memory", "--log-format", log_format]
    with ServerProcess(args, tmp_path) as server, fresh(server) as api:
        missing = api.get(f"{API}/sessions/main/scenarios/no-such-scenario")
        assert missing.status_code == 404
        request_id = missing.headers["X-Request-ID"]
        lines = wait_for(
            lambda: [line for line in server.log().splitlines() if request_id in line],
            what="a log line with the request id",
        )
    # uvicorn's access line for the request names it.
    (line,) = lines
    assert "no-such-scenario" in line and "404" in line
    if log_format == "json":
        assert json.loads(line)["request_id"] == request_id
    else:
        assert f"uvicorn.access [{request_id}]:" in line
