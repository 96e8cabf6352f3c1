"""Prometheus metrics: `GET /metrics` (on unless `metrics: false`).

The series (all prefixed `algomancy_`) are defined once per process, in
prometheus-client's default registry. Under several server processes (`serve
--workers N`, gunicorn) each process writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` and a scrape of any process sums them
(prometheus-client's multiprocess mode; `algomancy_api.gunicorn_conf` and `serve`
set the folder up and clean up after each process that exits).

What the store knows (scenarios by status, the queue) is read at scrape time by
`StoreCollector`: two cheap queries, the same from every process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from algomancy_core import ScenarioRecord
from algomancy_core.executors.base import RunOutcome
from algomancy_core.observe import OUTCOMES, RunObserver
from algomancy_core.scenario import ScenarioStatus
from algomancy_core.stores.base import RunQueue

METRICS_PATH = "/metrics"
#: The route label of a request no route matched (a 404), so that scanners
#: probing random paths make no new series.
UNMATCHED = "unmatched"

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RUN_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)

REQUESTS = Counter(
    "algomancy_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "algomancy_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
RUN_SECONDS = Histogram(
    "algomancy_run_duration_seconds",
    "How long runs took, from the claim to the end, by algorithm and outcome.",
    ["algorithm", "outcome"],
    buckets=RUN_BUCKETS,
)
QUEUE_SECONDS = Histogram(
    "algomancy_run_queue_seconds",
    "How long runs waited in the queue before a process claimed them, by algorithm.",
    ["algorithm"],
    buckets=RUN_BUCKETS,
)
RUNS = Counter(
    "algomancy_runs",
    f"Runs ended, by algorithm and outcome ({', '.join(OUTCOMES)}).",
    ["algorithm", "outcome"],
)
ETL_UPLOADS = Counter(
    "algomancy_etl_uploads",
    "ETL uploads handled, by outcome: success, failed (the ETL refused the files), "
    "refused (a 4xx before the ETL ran), error (a 5xx).",
    ["outcome"],
)
UPLOADS_IN_FLIGHT = Gauge(
    "algomancy_uploads_in_flight",
    "Requests with a body being received or handled now.",
    multiprocess_mode="livesum",
)
UPLOAD_BYTES_IN_FLIGHT = Gauge(
    "algomancy_upload_bytes_in_flight",
    "Request bytes held for the bodies in flight (against max_uploads_in_flight_bytes).",
    multiprocess_mode="livesum",
)
SSE_STREAMS = Gauge(
    "algomancy_sse_streams_open",
    "Server-Sent Events streams open now.",
    multiprocess_mode="livesum",
)
STORE_ERRORS = Counter(
    "algomancy_store_errors",
    "Errors of the store (database) that failed a request or a start, by exception type.",
    ["error"],
)


def multiprocess_dir() -> str | None:
    from algomancy_api.deployment import DeploymentSettings

    return DeploymentSettings().multiproc_dir or None


class StoreCollector(Collector):
    """Scenarios by status and the queue, read from the store at each scrape."""

    def __init__(self, store: RunQueue) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self.store.count_by_status()
        scenarios = GaugeMetricFamily(
            "algomancy_scenarios", "Scenarios in the store, by status.", labels=["status"]
        )
        for status in ScenarioStatus:
            scenarios.add_metric([status.value], counts.get(status, 0))
        yield scenarios
        yield GaugeMetricFamily(
            "algomancy_queue_depth",
            "Scenarios queued and not yet claimed.",
            value=counts.get(ScenarioStatus.QUEUED, 0),
        )
        oldest = self.store.oldest_queued_at()
        age = 0.0 if oldest is None else max(0.0, time.time() - oldest.timestamp())
        yield GaugeMetricFamily(
            "algomancy_queue_oldest_age_seconds",
            "Seconds the longest-waiting queued scenario has waited (0: none queued).",
            value=age,
        )


class RunMetrics(RunObserver):
    """Records the runs this process's dispatcher handles, and the queued runs
    cancelled here (`cancelled`, with no duration)."""

    def run_withdrawn(self, record: ScenarioRecord) -> None:
        RUNS.labels(record.algorithm, "cancelled").inc()

    def run_started(self, record: ScenarioRecord) -> None:
        if record.queued_at is not None and record.started_at is not None:
            waited = (record.started_at - record.queued_at).total_seconds()
            QUEUE_SECONDS.labels(record.algorithm).observe(max(0.0, waited))
        return None

    def run_ended(
        self, record: ScenarioRecord, outcome: str, seconds: float, executed: RunOutcome | None
    ) -> None:
        RUNS.labels(record.algorithm, outcome).inc()
        RUN_SECONDS.labels(record.algorithm, outcome).observe(seconds)


def count_store_error(exc: BaseException) -> None:
    """Count `exc` if it came from the store's database (SQLAlchemy or a driver)."""
    module = type(exc).__module__
    if module.startswith(("sqlalchemy", "sqlite3", "psycopg")):
        STORE_ERRORS.labels(type(exc).__name__).inc()


def exposition(store: RunQueue | None) -> bytes:
    """The text of a scrape: this process's series (or, in multiprocess mode, every
    process's, summed) and the store's."""
    registry = CollectorRegistry(auto_describe=False)
    folder = multiprocess_dir()
    if folder is not None:
        multiprocess.MultiProcessCollector(registry, path=folder)
    else:
        registry.register(_Default())
    if store is not None:
        registry.register(StoreCollector(store))
    return generate_latest(registry)


class _Default(Collector):
    """The default registry's series, inside a scrape registry of its own."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


async def metrics_endpoint(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    sessions = request.app.state.sessions
    store = sessions.runtime.store if sessions.started else None
    body = await run_in_threadpool(exposition, store)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def process_exited(pid: int) -> None:
    """Drop the live gauges of the process `pid` (gone) from the multiprocess
    folder; its counters and histograms stay, as Prometheus expects."""
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)
