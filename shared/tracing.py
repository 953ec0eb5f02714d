"""OpenTelemetry tracing across HTTP, the database and the bus, off by default
(``CRM_TRACING_ENABLED``).

HTTP: FastAPI's own OpenTelemetry support makes the server spans and continues a caller's
``traceparent``; a client to another service makes a client span per call and sends its
``traceparent`` (:func:`trace_http_client`, the httpx instrumentation). Database: each
statement a service's engine runs within a trace is a client span (:func:`trace_engine`, the
SQLAlchemy instrumentation). Bus: an event written to the outbox keeps the ``traceparent`` of
the span that wrote it; the relay sends it in a producer span continuing that one
(:func:`publishing`) and puts the producer span's own in the CloudEvents ``ce_traceparent``
header (the distributed-tracing extension); the consumer handles the message in a span
continuing it (:func:`consuming`). A trace thus runs from a channel's request through every
service the event reaches.

Each service gets a provider of its own (not the global one): several services share one
process in the embedded run and in tests, and each must report under its own name. So the
instrumentations are applied per client and per engine, never process-wide. With tracing off
nothing is instrumented and no span is made.
"""

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor, RequestInfo
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import SharedSettings

TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()
# Operations endpoints are scraped and probed every few seconds: spans of them are noise.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# The instrumentations also make OpenTelemetry metrics; Prometheus already covers them.
_NO_METRICS = NoOpMeterProvider()
# Where the HTTP semantic conventions put a client request's URL (before and after 1.21).
_URL_ATTRIBUTES = ("http.url", "url.full")


def create_tracer_provider(settings: SharedSettings) -> TracerProvider | None:
    if not settings.tracing_enabled:
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"crm-{settings.service_name}"}),
        sampler=ParentBased(TraceIdRatioBased(settings.tracing_sample_ratio)),
    )
    if settings.tracing_otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=settings.tracing_otlp_endpoint)
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def fastapi_telemetry(provider: TracerProvider | None) -> dict[str, Any]:
    """FastAPI's ``telemetry`` setting: server spans when tracing, nothing otherwise. Its
    metrics and logs stay off: Prometheus and structlog already cover them."""
    off = {"metrics": False, "logs": False, "operation_spans": False}
    if provider is None:
        return {**off, "tracing": False}
    return {
        **off,
        "tracing": True,
        "tracer_provider": provider,
        "exclude": lambda scope: scope.get("path") in UNTRACED_PATHS,
    }


def trace_http_client(client: httpx.AsyncClient, provider: TracerProvider | None) -> None:
    """Calls ``client`` makes are client spans of the current trace, and carry it to the
    service they reach in ``traceparent``. Nothing when tracing is off."""
    if provider is None:
        return
    HTTPXClientInstrumentor.instrument_client(
        client,
        tracer_provider=provider,
        meter_provider=_NO_METRICS,
        request_hook=_path_only,
    )


async def _path_only(span: Span, request: RequestInfo) -> None:
    """A lookup names the caller by phone number or national id in its query string: the
    span keeps the URL without it, as the access log does."""
    if not isinstance(span, ReadableSpan) or not span.attributes:
        return
    url = str(httpx.URL(str(request.url)).copy_with(query=None))
    for attribute in _URL_ATTRIBUTES:
        if attribute in span.attributes:
            span.set_attribute(attribute, url)


class _WithinTraces:
    """Starts a statement's span only inside a trace. The relay's and the consumers' polls, the
    jobs and the bus's own statements run outside any request: each would otherwise start a
    trace of its own, several a second, and bury the traces of the work itself."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start_span(self, name: str, context: Context | None = None, **options: Any) -> Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.INVALID_SPAN
        return self._tracer.start_span(name, context, **options)


def trace_engine(engine: AsyncEngine, provider: TracerProvider | None) -> None:
    """Each statement ``engine`` runs within a trace is a client span: its SQL text, never its
    parameters. Nothing when tracing is off. COPY goes to the driver beneath SQLAlchemy
    (``shared.bulk``) and has no span of its own: its time is in the enclosing span."""
    if provider is None:
        return
    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    connections = _NO_METRICS.get_meter(__name__).create_up_down_counter("db.client.connections")
    # The class listens to the engine's events from its construction on (it has no hints).
    EngineTracer(_WithinTraces(tracer), engine.sync_engine, connections)  # type: ignore[no-untyped-call]


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, if a sampled one is recording."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def traceparent_of(span: Span) -> str | None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get(TRACEPARENT)


def context_of(traceparent: str | None) -> Context | None:
    if not traceparent:
        return None
    return _PROPAGATOR.extract({TRACEPARENT: traceparent})


@dataclass(frozen=True)
class BusTracer:
    """A service's tracer for its work on the bus, and the bus it names in the spans'
    ``messaging.system`` (``kafka``, or ``local`` for the embedded run's bus)."""

    tracer: trace.Tracer
    system: str


def bus_tracer(provider: TracerProvider | None, system: str) -> BusTracer | None:
    """None when tracing is off: the relay and the consumer then do no span work at all."""
    return BusTracer(provider.get_tracer("crm.bus"), system) if provider is not None else None


class SentEvent(Protocol):
    """What a producer span needs of an outbox row."""

    @property
    def topic(self) -> str: ...

    @property
    def event_id(self) -> uuid.UUID: ...

    @property
    def traceparent(self) -> str | None: ...


@contextmanager
def publishing(tracer: BusTracer | None, events: Sequence[SentEvent]) -> Iterator[list[str | None]]:
    """The relay's spans of sending ``events``: for each written within a trace, a producer
    span continuing the span that wrote it, ended once the bus acknowledged the batch. Yields
    the ``traceparent`` each message is to carry: its producer span's, so that the consumer's
    handling continues the send; the written one where there is no span."""
    if tracer is None:
        yield [event.traceparent for event in events]
        return
    spans = [
        None
        if event.traceparent is None
        else tracer.tracer.start_span(
            f"send {event.topic}",
            context=context_of(event.traceparent),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": tracer.system,
                "messaging.operation.type": "send",
                "messaging.operation.name": "send",
                "messaging.destination.name": event.topic,
                "messaging.message.id": str(event.event_id),
            },
        )
        for event in events
    ]
    try:
        yield [
            event.traceparent if span is None else traceparent_of(span)
            for event, span in zip(events, spans, strict=True)
        ]
    except Exception as error:
        for span in spans:
            if span is not None:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        raise
    finally:
        for span in spans:
            if span is not None:
                span.end()


@contextmanager
def consuming(
    tracer: BusTracer | None, topic: str, group: str, traceparents: Sequence[str | None]
) -> Iterator[None]:
    """The span of handling messages of ``topic``: one message continues its trace; a batch
    (handled in one transaction) links to each message's, as the OpenTelemetry messaging
    conventions do for batches, and continues the trace too when all its messages are of one
    (a request's events, sent together). Nothing when tracing is off (``tracer`` None)."""
    if tracer is None:
        yield
        return
    contexts = [c for c in map(context_of, traceparents) if c is not None]
    sent = [
        span_context
        for c in contexts
        if (span_context := trace.get_current_span(c).get_span_context()).is_valid
    ]
    one_trace = len(sent) == len(traceparents) and len({s.trace_id for s in sent}) == 1
    with tracer.tracer.start_as_current_span(
        f"process {topic}",
        context=contexts[0] if one_trace else None,
        kind=SpanKind.CONSUMER,
        links=None if len(traceparents) == 1 else [Link(s) for s in sent],
        attributes={
            "messaging.system": tracer.system,
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": topic,
            "messaging.consumer.group.name": group,
            "messaging.batch.message_count": len(traceparents),
        },
    ):
        yield
