"""Tracing across HTTP and the bus: a channel's request to the customer service, the event it
writes, and the detector handling that event are one trace. Off by default.

The two services run in this process on a database of their own, over the local bus; spans go
to an in-memory exporter added to each service's provider."""

import asyncio
import uuid

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from contracts.catalogue import Topic
from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import create_app as create_customer_app
from services.customer.config import Settings as CustomerSettings
from services.events.app import create_app as create_events_app
from services.events.config import Settings as EventsSettings
from shared.bus.local import LocalBus
from shared.db import create_engine
from shared.envelope import EventEnvelope
from shared.tracing import inject_trace_headers
from tests.conftest import database_of_its_own
from tests.service.conftest import scalar, serving
from tests.service.customer.factories import individual
from tests.waiting import wait_until


def _customer_settings(database_url: str, *, traced: bool) -> CustomerSettings:
    return CustomerSettings(
        database_url=database_url, tracing_enabled=traced, tracing_otlp_endpoint="",
        relay_poll_interval_seconds=0.05,
    )  # fmt: skip


@pytest.fixture(scope="module")
async def tracing_database(postgres_server: EmbeddedPostgres) -> str:
    return await database_of_its_own(postgres_server, "crm_tracing_test")


def _recording(provider: TracerProvider | None) -> InMemorySpanExporter:
    assert provider is not None
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def _trace_id(traceparent: str) -> int:
    return int(traceparent.split("-")[1], 16)


def _span_id(traceparent: str) -> int:
    return int(traceparent.split("-")[2], 16)


def _continues(span: ReadableSpan, traceparent: str) -> bool:
    """Whether ``span`` is the child of the span ``traceparent`` names, or (a batch) links
    to it."""
    trace_id, span_id = _trace_id(traceparent), _span_id(traceparent)
    if span.parent is not None and (span.parent.trace_id, span.parent.span_id) == (
        trace_id,
        span_id,
    ):
        return True
    return any(
        (link.context.trace_id, link.context.span_id) == (trace_id, span_id) for link in span.links
    )


async def test_a_request_its_event_and_the_detector_handling_it_are_one_trace(
    tracing_database: str,
) -> None:
    customer_app = create_customer_app(_customer_settings(tracing_database, traced=True))
    events_app = create_events_app(
        EventsSettings(
            database_url=tracing_database, tracing_enabled=True, tracing_otlp_endpoint="",
            schedule_interval_seconds=3600,
        )
    )  # fmt: skip
    customer_spans = _recording(customer_app.state.tracer_provider)
    detector_spans = _recording(events_app.state.tracer_provider)
    settings = CustomerSettings(database_url=tracing_database)
    async with serving(customer_app) as customer, serving(events_app):
        created = await customer.post("/v1/customers", json=individual())
        customer_id = created.json()["id"]

        def handled() -> list[ReadableSpan]:
            return [
                s for s in detector_spans.get_finished_spans()
                if s.name == f"process {Topic.CUSTOMER}" and s.kind is SpanKind.CONSUMER
            ]  # fmt: skip

        async def detector_handled_it() -> bool:
            return bool(handled())

        await wait_until(detector_handled_it, timeout=30)
        await customer.get("/healthz")

    (request,) = [s for s in customer_spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    written = await scalar(
        settings,
        "SELECT traceparent FROM outbox WHERE message_key = :c ORDER BY seq LIMIT 1",
        c=customer_id,
    )
    assert isinstance(written, str)
    published = await _published_traceparent(tracing_database, customer_id)

    assert created.status_code == 201
    assert request.name == "POST /v1/customers"  # /healthz made no span
    assert request.context is not None
    # The outbox row and the message on the bus carry the request's trace...
    assert _trace_id(written) == request.context.trace_id
    assert published == written
    # ...and the detector's handling continues it.
    assert any(_continues(span, written) for span in handled())


async def test_tracing_is_off_by_default(tracing_database: str) -> None:
    app = create_customer_app(_customer_settings(tracing_database, traced=False))
    async with serving(app) as client:
        created = await client.post("/v1/customers", json=individual())
    written = await scalar(
        CustomerSettings(database_url=tracing_database),
        "SELECT count(*) FROM outbox WHERE message_key = :c AND traceparent IS NOT NULL",
        c=created.json()["id"],
    )
    assert app.state.tracer_provider is None
    assert created.status_code == 201
    assert written == 0


async def test_a_call_to_another_service_carries_the_current_trace() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    transport = httpx.MockTransport(answer)
    tracer = TracerProvider().get_tracer("test")
    async with httpx.AsyncClient(
        transport=transport, event_hooks={"request": [inject_trace_headers]}
    ) as client:
        await client.get("http://customer.test/untraced")
        with tracer.start_as_current_span("screen pop") as span:
            await client.get("http://customer.test/v1/customers/lookup")
    context = span.get_span_context()
    assert "traceparent" not in seen[0].headers
    trace_id = trace.format_trace_id(context.trace_id)
    span_id = trace.format_span_id(context.span_id)
    assert seen[1].headers["traceparent"] == f"00-{trace_id}-{span_id}-{context.trace_flags:02x}"


async def _published_traceparent(database_url: str, customer_id: str) -> str | None:
    """The ``ce_traceparent`` of the first message on the customer topic keyed by the customer."""
    engine = create_engine(CustomerSettings(database_url=database_url))
    bus = LocalBus(engine, partitions=6)
    consumer = bus.consumer(f"reader-{uuid.uuid4().hex[:8]}", [Topic.CUSTOMER])
    await bus.start()
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while True:
                for message in await consumer.poll(max_records=500, timeout=0.5):
                    if message.key == customer_id.encode():
                        return EventEnvelope.from_headers(message.headers).traceparent
    finally:
        await consumer.stop()
        await bus.stop()
        await engine.dispose()
