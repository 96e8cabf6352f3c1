"""Operations: `/metrics`, request ids on answers and log lines, traces of runs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from algomancy_api import ApiLauncher
from algomancy_api.logs import JsonFormatter, TextFormatter, request_id_var
from algomancy_core import ConfigurationError
from algomancy_data import Column, Schema
from tests.polling import scenario_status, wait_for

from .conftest import PREFIX, ClientFactory, api_config

M = f"{PREFIX}/sessions/main"
ITEMS = Schema(
    "items",
    extension="csv",
    columns=[Column("sku", "string", primary_key=True), Column("qty", "integer", nullable=False)],
)
STATUS_ROUTE = f"{PREFIX}/sessions/{{session_id}}/scenarios/{{scenario_id}}/status"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the series `name` with `labels` in a scrape (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def scrape(client: TestClient) -> str:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return r.text


def run_scenario(client: TestClient, tag: str, algo: str = "Instant") -> str:
    body = {"tag": tag, "dataset_key": "Master data", "algo_name": algo}
    sid = client.post(f"{M}/scenarios", json=body).json()["id"]
    assert client.post(f"{M}/scenarios/{sid}/run").status_code == 202
    return sid


# -- metrics -------------------------------------------------------------------------


def test_metrics_count_requests_by_route_template_runs_and_etl(make_client: ClientFactory) -> None:
    client = make_client(schemas=[ITEMS])
    before = scrape(client)
    ok_id = run_scenario(client, "good")
    bad_id = run_scenario(client, "bad", algo="Broken")
    for sid in (ok_id, bad_id):
        scenario_status(client.get, f"{M}/scenarios/{sid}", {"complete", "failed"})
    polls = 7
    for _ in range(polls):
        assert client.get(f"{M}/scenarios/{ok_id}/status").status_code == 200
    assert client.get(f"{M}/scenarios/no-such-id/status").status_code == 404
    assert client.get("/no/such/path").status_code == 404
    good = ("files", ("items.csv", b"sku,qty\nA,1\n", "text/csv"))
    bad = ("files", ("items.csv", b"sku,qty\nA,x\n", "text/csv"))
    for part in (good, bad):
        client.post(f"{M}/etl", data={"dataset_name": "up"}, files=[part])
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    requests = "algomancy_http_requests_total"
    # The route template, never the raw path (no series per scenario id).
    assert delta(requests, method="GET", route=STATUS_ROUTE, status="200") >= polls
    assert delta(requests, method="GET", route=STATUS_ROUTE, status="404") == 1
    assert delta(requests, method="GET", route="unmatched", status="404") == 1
    assert ok_id not in after and "/no/such/path" not in after
    latency = "algomancy_http_request_duration_seconds_count"
    assert delta(latency, method="GET", route=STATUS_ROUTE) >= polls + 1
    runs = "algomancy_runs_total"
    assert delta(runs, algorithm="Instant", outcome="complete") == 1
    assert delta(runs, algorithm="Broken", outcome="failed") == 1
    assert delta("algomancy_run_duration_seconds_count", algorithm="Instant") == 1
    assert delta("algomancy_run_queue_seconds_count", algorithm="Broken") == 1
    assert delta("algomancy_etl_uploads_total", outcome="success") == 1
    assert delta("algomancy_etl_uploads_total", outcome="failed") == 1
    # Read from the store at scrape time.
    assert sample(after, "algomancy_scenarios", status="complete") == 1
    assert sample(after, "algomancy_scenarios", status="failed") == 1
    assert sample(after, "algomancy_queue_depth") == 0
    assert sample(after, "algomancy_uploads_in_flight") == 0
    assert sample(after, "algomancy_sse_streams_open") == 0


def test_metrics_show_the_queue_and_cancelled_runs(make_client: ClientFactory, gate: Any) -> None:
    client = make_client(max_workers=1)
    before = scrape(client)
    held = run_scenario(client, "held", algo="Gated")
    assert gate.started.wait(30)
    # A session runs one scenario at a time: the next ones wait in the queue.
    run_scenario(client, "waits")
    withdrawn = run_scenario(client, "withdrawn")
    during = scrape(client)
    assert sample(during, "algomancy_queue_depth") == 2
    assert sample(during, "algomancy_scenarios", status="processing") == 1
    assert sample(during, "algomancy_queue_oldest_age_seconds") >= 0
    # Cancelled while queued: a cancelled run, with no duration.
    assert client.post(f"{M}/scenarios/{withdrawn}/cancel").status_code in (200, 202)
    assert sample(scrape(client), "algomancy_queue_depth") == 1
    assert client.post(f"{M}/scenarios/{held}/cancel").status_code in (200, 202)
    scenario_status(client.get, f"{M}/scenarios/{held}", {"failed"})
    after = scrape(client)
    cancelled = sample(after, "algomancy_runs_total", algorithm="Gated", outcome="cancelled")
    assert (
        cancelled - sample(before, "algomancy_runs_total", algorithm="Gated", outcome="cancelled")
        == 1
    )


def test_metrics_off(make_client: ClientFactory) -> None:
    client = make_client(metrics=False)
    assert client.get("/metrics").status_code == 404


def test_metrics_need_credentials_when_authentication_is_on(make_client: ClientFactory) -> None:
    client = make_client(api_keys={"k1": "alice"})
    r = client.get("/metrics")
    assert r.status_code == 401
    assert r.json()["detail"].startswith("authentication required")
    assert client.get("/metrics", headers={"X-API-Key": "k1"}).status_code == 200


def test_metrics_and_tracing_settings_are_checked() -> None:
    for field in ("metrics", "tracing"):
        with pytest.raises(ConfigurationError, match=field):
            api_config(**{field: "yes"})


# -- request ids ---------------------------------------------------------------------


def test_every_answer_has_a_request_id(client: TestClient) -> None:
    ids = set()
    for path in ("/health", f"{M}/scenarios/nope", "/no/such/path", f"{PREFIX}/sessions"):
        r = client.get(path)
        ids.add(r.headers["X-Request-ID"])
        if r.status_code >= 400:
            # The error body keeps its declared shape; the id is in the header.
            assert set(r.json()) == {"detail"}
    assert len(ids) == 4 and all(len(i) == 32 for i in ids)


def test_a_front_end_on_another_origin_may_read_the_request_id(
    make_client: ClientFactory,
) -> None:
    client = make_client(cors_origins=["https://app.example"])
    r = client.get("/health", headers={"Origin": "https://app.example"})
    assert "x-request-id" in r.headers["Access-Control-Expose-Headers"].lower()


def test_request_id_from_an_untrusted_peer_is_replaced(make_client: ClientFactory) -> None:
    client = make_client()  # no trusted proxies: TestClient's peer is not one
    r = client.get("/health", headers={"X-Request-ID": "from-client-1"})
    assert r.headers["X-Request-ID"] != "from-client-1"


def test_request_id_from_a_trusted_proxy_is_kept() -> None:
    app = ApiLauncher.build(api_config(trusted_proxies=["10.0.0.0/8"]))
    with TestClient(app, client=("10.1.2.3", 5000)) as proxy:
        r = proxy.get("/health", headers={"X-Request-ID": "proxy-abc.123"})
        assert r.headers["X-Request-ID"] == "proxy-abc.123"
        # A value with spaces, or too long, is not taken as sent.
        for bad in ("two words", "x" * 200):
            r = proxy.get("/health", headers={"X-Request-ID": bad})
            assert r.headers["X-Request-ID"] != bad
    with TestClient(app, client=("192.0.2.9", 5000)) as stranger:
        r = stranger.get("/health", headers={"X-Request-ID": "proxy-abc.123"})
        assert r.headers["X-Request-ID"] != "proxy-abc.123"


def test_log_lines_name_their_request(
    make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(schemas=[ITEMS])
    bad = ("files", ("items.csv", b"sku,qty\nA,x\n", "text/csv"))
    with caplog.at_level(logging.WARNING, logger="algomancy"):
        r = client.post(f"{M}/etl", data={"dataset_name": "up"}, files=[bad])
    assert r.json()["success"] is False
    failed = [rec for rec in caplog.records if getattr(rec, "event", None) == "etl-failed"]
    assert failed and failed[0].request_id == r.headers["X-Request-ID"]  # type: ignore[attr-defined]


def test_formatters_write_the_request_id() -> None:
    record = logging.LogRecord("algomancy.api", logging.INFO, "", 0, "hello", None, None)
    record.request_id = "abc123"
    assert " algomancy.api [abc123]: hello" in TextFormatter(
        "%(asctime)s %(levelname)-7s %(name)s%(request)s: %(message)s"
    ).format(record)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "abc123"
    record.request_id = None
    assert "request_id" not in json.loads(JsonFormatter().format(record))
    token = request_id_var.set("made-here")
    try:
        made = logging.getLogger("algomancy.test").makeRecord(
            "algomancy.test", logging.INFO, "", 0, "x", None, None
        )
    finally:
        request_id_var.reset(token)
    assert made.request_id == "made-here"  # type: ignore[attr-defined]


# -- traces --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spans() -> Iterator[Any]:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        pytest.skip("another tracer provider was set in this process")
    yield exporter
    exporter.clear()


@pytest.mark.slow
def test_a_run_on_the_process_executor_is_one_trace(make_client: ClientFactory, spans: Any) -> None:
    spans.clear()
    client = make_client(tracing=True, executor="process", max_workers=1)
    sid = run_scenario(client, "traced")
    assert scenario_status(client.get, f"{M}/scenarios/{sid}", {"complete", "failed"}) == {
        **scenario_status(client.get, f"{M}/scenarios/{sid}", {"complete", "failed"}),
        "status": "complete",
    }

    def finished() -> dict[str, Any]:
        return {s.name: s for s in spans.get_finished_spans()}

    named = wait_for(finished, lambda found: "algomancy.dispatch" in found)
    post = next(
        s
        for s in named.values()
        if s.kind.name == "SERVER" and s.attributes.get("http.route", "").endswith("/run")
    )
    trace_id = post.context.trace_id
    for name in (
        "algomancy.queue",
        "algomancy.dispatch",
        "algomancy.execute",
        "algomancy.algorithm",
    ):
        assert named[name].context.trace_id == trace_id, name
    assert named["algomancy.execute"].parent.span_id == named["algomancy.dispatch"].context.span_id
    algorithm = named["algomancy.algorithm"]
    assert algorithm.parent.span_id == named["algomancy.execute"].context.span_id
    # Timed in the worker process, which got the trace context with the job.
    worker_pid = int(algorithm.attributes["algomancy.worker"].rsplit(":", 1)[1])
    assert worker_pid != os.getpid()


@pytest.mark.slow
def test_a_run_claimed_by_another_server_continues_the_posts_trace(
    make_client: ClientFactory, spans: Any, gate: Any, tmp_path: Path
) -> None:
    """Two servers on one SQLite file: the one answering `POST …/run` is busy (its
    one slot held by a run of another session), so the other claims the run and
    continues the request's trace from the context stored with the queued run."""
    spans.clear()
    shared = {"tracing": True, "has_persistent_state": True, "data_path": str(tmp_path)}
    queuing = make_client(**shared, max_workers=1)
    busy = queuing.app.state.sessions.create_session("busy")
    held = busy.create_scenario("held", "Master data", "Gated")
    busy.run_scenario(held.id)
    assert gate.started.wait(30)
    sid = run_scenario(queuing, "traced")
    claiming = make_client(**shared, max_workers=1)
    ended = scenario_status(claiming.get, f"{M}/scenarios/{sid}", {"complete", "failed"})
    assert ended["status"] == "complete", ended
    gate.release.set()

    def of_the_run() -> list[Any]:
        return [
            s
            for s in spans.get_finished_spans()
            if s.name.startswith("algomancy.") and s.attributes.get("algomancy.scenario_id") == sid
        ]

    named = {s.name: s for s in wait_for(of_the_run, lambda found: len(found) >= 3)}
    post = next(
        s
        for s in spans.get_finished_spans()
        if s.kind.name == "SERVER" and s.attributes.get("http.route", "").endswith("/run")
    )
    for name in ("algomancy.queue", "algomancy.dispatch", "algomancy.execute"):
        assert named[name].context.trace_id == post.context.trace_id, name
    assert named["algomancy.dispatch"].parent.span_id == post.context.span_id


@pytest.mark.slow  # a fresh interpreter
def test_tracing_off_installs_nothing(make_client: ClientFactory) -> None:
    client = make_client()
    assert not any(
        type(o).__name__ == "RunTracing" for o in client.app.state.sessions.runtime.observers.items
    )
    # Nor imports OpenTelemetry's SDK or instrumentations: a server of its own, in a
    # fresh process. (FastAPI itself imports the API package when it is installed.)
    code = (
        "import sys; from fastapi.testclient import TestClient\n"
        "from algomancy_api import ApiLauncher\n"
        "from algomancy_example import example_settings\n"
        "app = ApiLauncher.build(example_settings())\n"
        "with TestClient(app) as c: assert c.get('/api/v1/sessions').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.startswith(\n"
        "    ('opentelemetry.sdk', 'opentelemetry.instrumentation', 'opentelemetry.exporter'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_the_dashboard_queries_only_series_the_server_has(client: TestClient) -> None:
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "assets" / "grafana-dashboard.json"
    dashboard = json.loads(page.read_text(encoding="utf-8"))
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"algomancy_[a-z_]+", target["expr"])
    }
    served = set()
    for family in text_string_to_metric_families(scrape(client)):
        served |= {s.name for s in family.samples}
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
        served |= {family.name + suffix for suffix in suffixes.get(family.type, [""])}
    assert queried and queried <= served, queried - served


def test_a_500_names_its_request_in_the_answer_and_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = ApiLauncher.build(api_config())

    def boom() -> None:
        raise RuntimeError("unexpected")

    def store_down() -> None:
        raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    app.add_api_route("/boom", boom)
    app.add_api_route("/store-down", store_down)
    with TestClient(app, raise_server_exceptions=False) as client:
        before = sample(scrape(client), "algomancy_store_errors_total", error="OperationalError")
        assert client.get("/store-down").status_code == 500
        with caplog.at_level(logging.ERROR, logger="algomancy"):
            r = client.get("/boom")
        assert r.status_code == 500 and r.json() == {"detail": "Internal server error"}
        scrape_text = scrape(client)
    logged = [rec for rec in caplog.records if rec.getMessage() == "unhandled error on GET /boom"]
    assert logged and logged[0].request_id == r.headers["X-Request-ID"]  # type: ignore[attr-defined]
    assert sample(scrape_text, "algomancy_http_requests_total", route="/boom", status="500") >= 1
    store_errors = sample(scrape_text, "algomancy_store_errors_total", error="OperationalError")
    assert store_errors == before + 1


GUNICORN_HOOKS = """
import os, pathlib, sys, types
folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
import algomancy_api.gunicorn_conf as conf
made = os.environ["PROMETHEUS_MULTIPROC_DIR"]
if folder:
    assert made == folder and not (pathlib.Path(folder) / "counter_1.db").exists()
live = pathlib.Path(made) / "gauge_livesum_4242.db"
live.write_bytes(b"")
conf.child_exit(None, types.SimpleNamespace(pid=4242))
assert not live.exists(), "a dead worker's live gauges stay"
conf.on_exit(None)
print("kept" if pathlib.Path(made).exists() else "removed")
"""


@pytest.mark.slow  # a fresh interpreter
@pytest.mark.parametrize("named", [True, False])
def test_gunicorn_settings_prepare_and_clean_the_metrics_folder(tmp_path: Any, named: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    if named:
        folder = tmp_path / "metrics"
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"stale values of an earlier server")
        env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    done = subprocess.run(
        [sys.executable, "-c", GUNICORN_HOOKS], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    # A folder the deployer named is theirs to keep; one made here goes at exit.
    assert done.stdout.strip() == ("kept" if named else "removed")
