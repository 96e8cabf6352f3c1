"""`RequestMetrics`: each HTTP request counted and timed (`algomancy_api.metrics`)."""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from algomancy_api.metrics import LATENCY, REQUESTS, UNMATCHED


class RequestMetrics:
    """Counts each HTTP request by method, route template and status, and times it
    (`record`, called by `AnswerLayer` in `algomancy_api.middleware.answers`).

    Cheap on the hot path: the labelled series are looked up once per (route,
    method, status) and kept; a request costs a dictionary lookup, an increment and
    an observation. Keyed by the matched route object (the template is worked out
    once per route, not per request: ~1 us of a ~3 us `record` by `timeit`)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        #: (id of the route, method, status, whether the path is under `prefix`) ->
        #: (the route, kept alive so its id is not reused; counter; timer).
        self._series: dict[tuple[int, str, int, bool], tuple[Any, Any, Any]] = {}

    def record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        prefixed = bool(self.prefix) and scope["path"].startswith(self.prefix)
        key = (id(route), scope["method"], status, prefixed)
        series = self._series.get(key)
        if series is None or series[0] is not route:
            series = self._series[key] = self._labelled(route, key[1], status, prefixed)
        series[1].inc()
        series[2].observe(seconds)

    def _labelled(
        self, route: Any, method: str, status: int, prefixed: bool
    ) -> tuple[Any, Any, Any]:
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        if not template:
            template = UNMATCHED
        elif prefixed and not template.startswith(self.prefix + "/"):
            # Routes included under the API's prefix name their path without it.
            template = self.prefix + template
        return (
            route,
            REQUESTS.labels(method, template, str(status)),
            LATENCY.labels(method, template),
        )
