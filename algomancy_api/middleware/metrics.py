"""`RequestMetrics`: each HTTP request counted and timed (`algomancy_api.metrics`)."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, NamedTuple

from starlette.types import Scope

from algomancy_api.metrics import LATENCY, REQUESTS, UNMATCHED


class RequestMetrics:
    """Counts each HTTP request by method, route template and status, and times it
    (`record`, called by `AnswerLayer` in `algomancy_api.middleware.answers`).

    Cheap on the hot path: the labelled series are looked up once per (route,
    method, status) and kept; a request costs a dictionary lookup and three
    increments. Keyed by the matched route object (the template is worked out
    once per route, not per request: ~1 us of a ~3 us `record` by `timeit`).

    The increments are those `Counter.inc` and `Histogram.observe` make, on the
    values behind them (prometheus-client's `_value`, `_sum`, `_buckets`: the same
    objects in multiprocess mode, which write to its files), the bucket found by
    bisection: without the argument checks and the walk over the buckets, `record`
    takes ~1.1 us instead of ~2.4 (`timeit`). A prometheus-client without those
    attributes gets its public calls (`_Series.direct` None), and
    `tests/api/test_api_middleware_metrics.py` says the series are the same.
    Bought figure, with the serial request id (`requestids.new_request_id`): "1
    status poll, in memory / bare FastAPI" (`benchmarks.bench_status`); in process,
    poll / bare FastAPI app (40 interleaved rounds of 200 calls, best round, this and
    the previous commit in turn, seven pairs in two runs, load 3-5): 1.15x / 1.11x /
    1.14x / 1.15x / 1.13x / 1.11x / 1.13x before, 1.11x / 1.10x / 1.09x / 1.09x /
    1.08x / 1.10x / 1.11x after: lower in every pair, by ~1.5 us of a ~48 us poll
    (mean 1.13x -> 1.10x), at the edge of what shows."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        #: (id of the route, method, status, whether the path is under `prefix`) ->
        #: its series.
        self._series: dict[tuple[int, str, int, bool], _Series] = {}

    def record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        prefixed = bool(self.prefix) and scope["path"].startswith(self.prefix)
        key = (id(route), scope["method"], status, prefixed)
        series = self._series.get(key)
        if series is None or series.route is not route:
            series = self._series[key] = self._labelled(route, key[1], status, prefixed)
        direct = series.direct
        if direct is None:
            series.counter.inc()
            series.timer.observe(seconds)
            return
        count, total, buckets, bounds = direct
        count.inc(1)
        total.inc(seconds)
        buckets[bisect_left(bounds, seconds)].inc(1)

    def _labelled(self, route: Any, method: str, status: int, prefixed: bool) -> _Series:
        template = getattr(route, "path_format", None) or getattr(route, "path", None)
        if not template:
            template = UNMATCHED
        elif prefixed and not template.startswith(self.prefix + "/"):
            # Routes included under the API's prefix name their path without it.
            template = self.prefix + template
        counter = REQUESTS.labels(method, template, str(status))
        timer = LATENCY.labels(method, template)
        try:
            direct = (counter._value, timer._sum, timer._buckets, timer._upper_bounds)
        except AttributeError:  # another prometheus-client: its public calls
            direct = None
        return _Series(route, counter, timer, direct)


class _Series(NamedTuple):
    """A (route, method, status)'s series, and the values behind them."""

    #: Kept alive, so that its id (the key) is not reused.
    route: Any
    counter: Any
    timer: Any
    #: The counter's value, the timer's sum, its buckets and their upper bounds.
    direct: tuple[Any, Any, list[Any], list[float]] | None
