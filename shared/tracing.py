"""OpenTelemetry tracing across HTTP and the bus, off by default (``CRM_TRACING_ENABLED``).

HTTP: FastAPI's own OpenTelemetry support makes the server spans and continues a caller's
``traceparent``; outgoing httpx calls carry the current one (:func:`inject_trace_headers`).
Bus: an event written to the outbox keeps the ``traceparent`` of the span that wrote it, the
relay sends it as the CloudEvents ``ce_traceparent`` header (the distributed-tracing
extension), and the consumer handles the message in a span continuing it. A trace thus runs
from a channel's request through every service the event reaches.

Each service gets a provider of its own (not the global one): several services share one
process in the embedded run and in tests, and each must report under its own name.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.settings import SharedSettings

TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()
# Operations endpoints are scraped and probed every few seconds: spans of them are noise.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


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


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, if a sampled one is recording."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_of(traceparent: str | None) -> Context | None:
    if not traceparent:
        return None
    return _PROPAGATOR.extract({TRACEPARENT: traceparent})


def tracer_of(provider: TracerProvider | None, name: str) -> trace.Tracer | None:
    """None when tracing is off: the consumer then does no span work per message at all."""
    return provider.get_tracer(name) if provider is not None else None


@contextmanager
def consuming(
    tracer: trace.Tracer | None, topic: str, group: str, traceparents: Sequence[str | None]
) -> Iterator[None]:
    """The span of handling messages of ``topic``: one message continues its trace; a batch
    (handled in one transaction) links to each message's, as the OpenTelemetry messaging
    conventions do for batches. Nothing when tracing is off (``tracer`` None)."""
    if tracer is None:
        yield
        return
    contexts = [c for c in map(context_of, traceparents) if c is not None]
    links = [
        Link(span_context)
        for c in contexts
        if (span_context := trace.get_current_span(c).get_span_context()).is_valid
    ]
    single = len(traceparents) == 1
    with tracer.start_as_current_span(
        f"process {topic}",
        context=contexts[0] if single and contexts else None,
        kind=SpanKind.CONSUMER,
        links=None if single else links,
        attributes={
            "messaging.operation.type": "process",
            "messaging.destination.name": topic,
            "messaging.consumer.group.name": group,
            "messaging.batch.message_count": len(traceparents),
        },
    ):
        yield


async def inject_trace_headers(request: httpx.Request) -> None:
    """httpx request hook: the call to another service continues the current trace."""
    _PROPAGATOR.inject(request.headers)
