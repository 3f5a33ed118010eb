"""Traces that follow one piece of work from the request that asked for it to the worker
that did it, across processes and hosts (OpenTelemetry).

Off unless OTEL_EXPORTER_OTLP_ENDPOINT (spans exported over OTLP/HTTP) or
CAIRN_TRACING=console (spans printed) is set; off, every call here does nothing that
costs more than a check.

The context travels with the row, not with a message: whoever creates a leased row
stores the current span's W3C `traceparent` in its `trace_parent` field, and whichever
worker claims it (the nudge, the sweep, a rescuer after a death, on any host) continues
that trace. Each lease is one span, "<kind> work", from the claim to the release, with
the attempt's number, its trigger and its outcome; a "claim" span under it marks the
claim statement, and the kind's work adds its own spans under it (`within`).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from work.kinds import Kind
    from work.leases import Lease

log = structlog.get_logger(__name__)

_PROPAGATOR = TraceContextTextMapPropagator()

#: The provider spans go to: set at start-up (configure) or by a test (use); None: off.
_provider: TracerProvider | None = None

#: The span of each lease this process took, by (kind, row id, token): open until the
#: release, then only its context (the log lines about the lease that follow name its
#: trace). The oldest are dropped beyond this; a lease never released, unended.
_OPEN_MAX = 10_000
_open: OrderedDict[tuple[str, int, str], Span] = OrderedDict()
_lock = threading.Lock()

#: Outcomes whose span says the work went wrong.
_ERRORS = {"failed", "dead", "lease_lost", "worker_died"}


def configure() -> None:
    """At start-up (work's AppConfig): export spans if the environment asks for it, and
    trace Django's requests."""
    from django.conf import settings

    if settings.CAIRN_TRACING == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        processor = BatchSpanProcessor(OTLPSpanExporter())
    elif settings.CAIRN_TRACING == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

        processor = SimpleSpanProcessor(ConsoleSpanExporter())
    else:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider(resource=Resource.create(
        {"service.name": os.environ.get("OTEL_SERVICE_NAME", "cairn")}))
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    use(provider)


def use(provider: TracerProvider | None) -> None:
    """Send spans to `provider` (None: tracing off); Django's requests are traced into it.
    Tests pass one with an in-memory exporter."""
    global _provider
    from opentelemetry.instrumentation.django import DjangoInstrumentor

    instrumentor = DjangoInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    _provider = provider
    with _lock:
        _open.clear()
    if provider is not None:
        instrumentor.instrument(tracer_provider=provider)


def on() -> bool:
    return _provider is not None


def tracer() -> trace.Tracer:
    return (_provider or trace.NoOpTracerProvider()).get_tracer("cairn")


def parent() -> str:
    """The current span as a W3C traceparent, for a row to carry; "" when none records."""
    if not on():
        return ""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent", "")


def _context(traceparent: str) -> otel_context.Context:
    """The context a stored traceparent names; an empty one (a new trace) without it."""
    if traceparent:
        return _PROPAGATOR.extract({"traceparent": traceparent},
                                   context=otel_context.Context())
    return otel_context.Context()


@contextmanager
def span(name: str, **attributes) -> Iterator[None]:
    """A span around a block, under the current one."""
    if not on():
        yield
        return
    with tracer().start_as_current_span(name, attributes=_attributes(attributes)):
        yield


@contextmanager
def attached(traceparent: str) -> Iterator[None]:
    """Make a carried traceparent the current context (another thread's work goes on in
    the trace that queued it)."""
    if not on() or not traceparent:
        yield
        return
    token = otel_context.attach(_context(traceparent))
    try:
        yield
    finally:
        otel_context.detach(token)


# --- the leases' spans -----------------------------------------------------------------

def claimed(kind: Kind, leases: list[Lease], *, trigger: str, started_ns: int) -> None:
    """Open the span of each lease just taken, under the trace its row carries, with a
    "claim" span for the statement (from `started_ns` to now)."""
    if not on() or not leases:
        return
    ended_ns = time.time_ns()
    carried = dict(kind.model.objects.filter(id__in=[lease.row_id for lease in leases])
                   .values_list("id", "trace_parent"))
    for lease in leases:
        work = tracer().start_span(
            f"{kind.name} work", context=_context(carried.get(lease.row_id, "")),
            kind=SpanKind.CONSUMER, start_time=started_ns, attributes={
                "cairn.kind": kind.name, "cairn.row_id": lease.row_id,
                "cairn.attempt": lease.attempts, "cairn.trigger": trigger,
                "cairn.orphan": lease.orphan, "cairn.worker": lease.owner})
        tracer().start_span("claim", context=trace.set_span_in_context(work),
                            start_time=started_ns).end(end_time=ended_ns)
        with _lock:
            _open[(kind.name, lease.row_id, lease.token)] = work
            while len(_open) > _OPEN_MAX:
                _open.popitem(last=False)


def within(lease: Lease):
    """The lease's span as the current one: the kind's own spans go under it, and log
    lines name its trace (after the release too)."""
    with _lock:
        work = _open.get((lease.kind, lease.row_id, lease.token))
    if work is None:
        return nullcontext()
    return trace.use_span(work, end_on_exit=False)


@contextmanager
def step(leases: list[Lease], name: str) -> Iterator[None]:
    """A span `name` around a block, under each lease's span: one step done for a batch
    at once (the activities' settle, which also releases them)."""
    if not on():
        yield
        return
    with _lock:
        works = [_open.get((lease.kind, lease.row_id, lease.token)) for lease in leases]
    steps = [tracer().start_span(name, context=trace.set_span_in_context(work))
             for work in works if work is not None and work.is_recording()]
    try:
        yield
    finally:
        for each in steps:
            each.end()


def released(lease: Lease, outcome: str, *, code: str = "") -> None:
    """End the lease's span with the attempt's outcome."""
    if not on():
        return
    key = (lease.kind, lease.row_id, lease.token)
    with _lock:
        work = _open.get(key)
        if work is None or not work.is_recording():
            return
        _open[key] = trace.NonRecordingSpan(work.get_span_context())
    work.set_attribute("cairn.outcome", outcome)
    if code:
        work.set_attribute("cairn.error_code", code)
    if outcome in _ERRORS:
        work.set_status(Status(StatusCode.ERROR, code or outcome))
    work.end()


def ids() -> dict[str, str]:
    """The current span's trace and span ids, for a log line; empty when none records."""
    if not on():
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": format(context.trace_id, "032x"),
            "span_id": format(context.span_id, "016x")}


def add_ids(logger, method: str, event: dict) -> dict:
    """A structlog processor: every log line written inside a span names its trace."""
    for key, value in ids().items():
        event.setdefault(key, value)
    return event


def _attributes(attributes: dict) -> dict:
    return {f"cairn.{key}": value for key, value in attributes.items() if value is not None}
