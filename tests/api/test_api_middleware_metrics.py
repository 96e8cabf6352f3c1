"""`RequestMetrics.record` (`algomancy_api.middleware.metrics`): the route's
template is worked out once per route, and the series are the same as ever."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from algomancy_api.metrics import UNMATCHED
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
