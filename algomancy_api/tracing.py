"""OpenTelemetry traces (the `otel` extra), off unless `tracing: true`.

Each request is a trace (the FastAPI instrumentation; the SQLAlchemy one adds a
span per query). A scenario run continues the trace of the `POST …/run` that
queued it: `algomancy.queue` (the wait), `algomancy.dispatch` (from the claim to
the recorded end, in the dispatcher), `algomancy.execute` (the executor's job)
and `algomancy.algorithm` (the algorithm, in the worker process or on the Dask
worker that ran it, timed there and recorded here). The context goes with the
job (`RunRequest.trace_context`), so spans that an algorithm makes in a worker
with OpenTelemetry set up join the trace too.

The link to the request is stored with the queued run (its W3C trace context,
`ScenarioRecord.trace_context`): whichever server process claims the run, this
one or another on the same store, continues the request's trace.

Off, no SDK, instrumentation or exporter is imported or installed: no cost. On,
spans go to the tracer provider the host set up
(`opentelemetry.trace.set_tracer_provider`), or else to an OTLP exporter
configured by the standard `OTEL_EXPORTER_OTLP_*` variables.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from algomancy_core import ConfigurationError, ScenarioRecord
from algomancy_core.executors.base import RunOutcome
from algomancy_core.observe import RunObserver

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.trace import Span, Tracer

log = logging.getLogger("algomancy.tracing")

TRACER_NAME = "algomancy"


def _ns(moment: Any) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1e9)


class RunTracing(RunObserver):
    """Spans of the runs (see the module's docstring)."""

    def __init__(self, tracer: Tracer) -> None:
        from opentelemetry import propagate, trace

        self.tracer = tracer
        self._propagate = propagate
        self._trace = trace
        self._lock = threading.Lock()
        self._running: dict[str, tuple[Span, Span]] = {}

    def queue_context(self) -> Mapping[str, str] | None:
        carrier: dict[str, str] = {}
        self._propagate.inject(carrier)
        return carrier or None

    def run_started(self, record: ScenarioRecord) -> Mapping[str, str] | None:
        parent = self._propagate.extract(dict(record.trace_context or {}))
        attributes = {
            "algomancy.scenario_id": record.id,
            "algomancy.session_id": record.session_id,
            "algomancy.algorithm": record.algorithm,
            "algomancy.dataset": record.dataset_key,
        }
        queued, started = _ns(record.queued_at), _ns(record.started_at)
        if queued is not None and started is not None:
            self.tracer.start_span(
                "algomancy.queue", context=parent, start_time=queued, attributes=attributes
            ).end(end_time=max(queued, started))
        dispatch = self.tracer.start_span(
            "algomancy.dispatch", context=parent, start_time=started, attributes=attributes
        )
        execute = self.tracer.start_span(
            "algomancy.execute",
            context=self._trace.set_span_in_context(dispatch),
            attributes=attributes,
        )
        with self._lock:
            self._running[record.id] = (dispatch, execute)
        job: dict[str, str] = {}
        self._propagate.inject(job, context=self._trace.set_span_in_context(execute))
        return job

    def run_ended(
        self, record: ScenarioRecord, outcome: str, seconds: float, executed: RunOutcome | None
    ) -> None:
        with self._lock:
            spans = self._running.pop(record.id, None)
        if spans is None:
            return
        dispatch, execute = spans
        if executed is not None and executed.worker_span is not None:
            start, end, where = executed.worker_span
            self.tracer.start_span(
                "algomancy.algorithm",
                context=self._trace.set_span_in_context(execute),
                start_time=start,
                attributes={"algomancy.algorithm": record.algorithm, "algomancy.worker": where},
            ).end(end_time=max(start, end))
        failed = outcome != "complete"
        for span in (execute, dispatch):
            span.set_attribute("algomancy.outcome", outcome)
            if failed:
                error = executed.error if executed is not None else None
                span.set_status(self._trace.StatusCode.ERROR, error or outcome)
            span.end()


def install_tracing(app: FastAPI, observers: Any) -> Any:
    """Trace `app`'s requests and its runs (`observers`: the engine's). Returns the
    tracer provider this made (to shut down with the app), or None when the host
    had set one up."""
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    except ImportError as exc:
        raise ConfigurationError(
            f"tracing: needs the otel extra (pip install 'algomancy-api[otel]'): {exc}"
        ) from None
    made = None
    if type(trace.get_tracer_provider()).__name__.startswith("Proxy"):
        made = _otlp_provider()
        trace.set_tracer_provider(made)
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="/metrics,/health", exclude_spans=["receive", "send"]
    )
    instrumentor = SQLAlchemyInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        # Wraps `create_engine`: the store's engine, made at start, is traced.
        # skip_dep_check: its declared range lags SQLAlchemy's releases (2.1).
        instrumentor.instrument(skip_dep_check=True)
    observers.add(RunTracing(trace.get_tracer(TRACER_NAME)))
    return made


def _otlp_provider() -> Any:
    """An SDK tracer provider exporting over OTLP/HTTP to where `OTEL_EXPORTER_OTLP_*`
    says (the default: localhost:4318)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME") or "algomancy-api"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider
