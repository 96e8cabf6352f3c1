"""`RequestMetrics.record` (`algomancy_api.middleware.metrics`): the route's
template is worked out once per route, and the series are the same as ever."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

import algomancy_api.middleware.metrics as metrics_module
from algomancy_api.metrics import LATENCY_BUCKETS, UNMATCHED
from algomancy_api.middleware.metrics import RequestMetrics


class CountingRoute:
    """A route whose template counts how often it is read."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.reads = 0

    @property
    def path_format(self) -> str:
        self.reads += 1
        return self.template


def scope(path: str, route: Any) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "route": route}


def count(route: str, status: str) -> float:
    labels = {"method": "GET", "route": route, "status": status}
    return REGISTRY.get_sample_value("algomancy_http_requests_total", labels) or 0.0


def test_a_route_template_is_read_once_per_route() -> None:
    metrics = RequestMetrics("/api/v1")
    route = CountingRoute("/sessions/{session_id}/metrics-test-once")
    full = "/api/v1/sessions/{session_id}/metrics-test-once"
    before = count(full, "200")
    for _ in range(3):
        metrics.record(scope("/api/v1/sessions/a/metrics-test-once", route), 200, 0.001)
    assert count(full, "200") == before + 3
    assert route.reads == 1


def test_templates_as_before() -> None:
    """Under the prefix an included route's template gets it; outside, or already
    prefixed, it is kept; no route is `unmatched`; each status its own series."""
    metrics = RequestMetrics("/api/v1")
    included = CountingRoute("/metrics-test-included")
    root = CountingRoute("/metrics-test-root")
    prefixed = CountingRoute("/api/v1/metrics-test-prefixed")
    cases = [
        (scope("/api/v1/metrics-test-included", included), 200, "/api/v1/metrics-test-included"),
        (scope("/api/v1/metrics-test-included", included), 404, "/api/v1/metrics-test-included"),
        (scope("/metrics-test-root", root), 200, "/metrics-test-root"),
        (scope("/api/v1/metrics-test-prefixed", prefixed), 200, "/api/v1/metrics-test-prefixed"),
        (scope("/nowhere", None), 404, UNMATCHED),
    ]
    for request, status, template in cases:
        before = count(template, str(status))
        metrics.record(request, status, 0.001)
        assert count(template, str(status)) == before + 1, template


#: Durations at, between and past the latency buckets' bounds.
DURATIONS = [0.0001, 0.002, 0.0021, 0.03, 0.5, 30.0, 100.0]


def samples(registry: Any, name: str, template: str) -> dict[tuple[str, str], float]:
    """The samples of histogram `name` for `template`: (suffix, le) -> value."""
    found: dict[tuple[str, str], float] = {}
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name.startswith(name) and sample.labels.get("route") == template:
                suffix = sample.name[len(name) :]
                found[(suffix, sample.labels.get("le", ""))] = sample.value
    return found


def refuse(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("prometheus-client's own call, not the value behind it")


def test_record_counts_as_prometheus_own_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """`record` increments the values behind `Counter.inc` and `Histogram.observe`,
    without calling them (issue 22: ~1.3 us of a poll): the series are what those
    calls make."""
    metrics = RequestMetrics("/api/v1")
    route = CountingRoute("/api/v1/metrics-test-direct")
    with monkeypatch.context() as patched:
        patched.setattr(Counter, "inc", refuse)
        patched.setattr(Histogram, "observe", refuse)
        for seconds in DURATIONS:
            metrics.record(scope("/api/v1/metrics-test-direct", route), 200, seconds)
    own = CollectorRegistry()
    timer = Histogram("t", "t", ["route"], buckets=LATENCY_BUCKETS, registry=own)
    for seconds in DURATIONS:
        timer.labels("/api/v1/metrics-test-direct").observe(seconds)
    name = "algomancy_http_request_duration_seconds"
    recorded = samples(REGISTRY, name, "/api/v1/metrics-test-direct")
    expected = samples(own, "t", "/api/v1/metrics-test-direct")
    assert recorded.keys() == expected.keys() and len(recorded) == len(LATENCY_BUCKETS) + 4
    for key, value in expected.items():
        assert recorded[key] == pytest.approx(value), key
    assert count("/api/v1/metrics-test-direct", "200") == len(DURATIONS)


class PublicOnly:
    """A metric whose labelled children offer prometheus-client's public calls only."""

    def __init__(self, metric: Any) -> None:
        self.metric = metric

    def labels(self, *values: str) -> Any:
        child = self.metric.labels(*values)
        public = ("inc", "observe")
        return SimpleNamespace(**{n: getattr(child, n) for n in public if hasattr(child, n)})


def test_record_takes_the_public_calls_without_prometheus_internals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    own = CollectorRegistry()
    counter = Counter("c", "c", ["method", "route", "status"], registry=own)
    timer = Histogram("t", "t", ["method", "route"], buckets=LATENCY_BUCKETS, registry=own)
    monkeypatch.setattr(metrics_module, "REQUESTS", PublicOnly(counter))
    monkeypatch.setattr(metrics_module, "LATENCY", PublicOnly(timer))
    metrics = RequestMetrics("/api/v1")
    route = CountingRoute("/api/v1/metrics-test-public")
    for seconds in DURATIONS:
        metrics.record(scope("/api/v1/metrics-test-public", route), 200, seconds)
    labels = {"method": "GET", "route": "/api/v1/metrics-test-public"}
    assert own.get_sample_value("c_total", labels | {"status": "200"}) == len(DURATIONS)
    assert own.get_sample_value("t_count", labels) == len(DURATIONS)
    assert own.get_sample_value("t_sum", labels) == pytest.approx(sum(DURATIONS))
