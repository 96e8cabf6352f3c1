"""`RequestMetrics`: each HTTP request counted and timed (`algomancy_api.metrics`)."""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from algomancy_api.metrics import LATENCY, REQUESTS, UNMATCHED


class RequestMetrics:
    """Counts each HTTP request by method, route template and status, and times it
    (`record`, called by `AnswerLayer` in `algomancy_api.middleware.answers`).

    Cheap on the hot path: the labelled series are looked up once per (method,
    route, status) and kept; a request costs two clock reads and two increments."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._timers: dict[tuple[str, str], Any] = {}

    def record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        if not template:
            template = UNMATCHED
        elif (
            self.prefix
            and scope["path"].startswith(self.prefix)
            and not template.startswith(self.prefix + "/")
        ):
            # Routes included under the API's prefix name their path without it.
            template = self.prefix + template
        method = scope["method"]
        key = (method, template, status)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = REQUESTS.labels(method, template, str(status))
        counter.inc()
        timer = self._timers.get(key[:2])
        if timer is None:
            timer = self._timers[key[:2]] = LATENCY.labels(method, template)
        timer.observe(seconds)
