"""Tracing across HTTP, the database and the bus: a channel's request to the customer service,
the statements it runs, the relay's send of the event it wrote, and the detector handling that
event in the events service are one trace. Off by default.

The services run in this process on a database of their own, over the local bus or the real
Kafka broker; spans go to an in-memory exporter added to each service's provider."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from contracts.catalogue import Topic
from crm.infra.postgres import EmbeddedPostgres
from services.contact_center.app import create_app as create_contact_app
from services.contact_center.config import Settings as ContactSettings
from services.customer.app import create_app as create_customer_app
from services.customer.config import Settings as CustomerSettings
from services.events.app import create_app as create_events_app
from services.events.config import Settings as EventsSettings
from shared.bus.local import LocalBus
from shared.db import create_engine
from shared.envelope import EventEnvelope
from shared.runtime import ServiceRuntime
from shared.tracing import trace_http_client
from tests.conftest import database_of_its_own
from tests.integration.mechanics import read_for_keys
from tests.service.conftest import scalar, serving
from tests.service.contact_center.conftest import at, new_mobile
from tests.service.customer.factories import individual
from tests.waiting import wait_until


def _customer_settings(database_url: str, *, traced: bool, **bus: Any) -> CustomerSettings:
    return CustomerSettings(
        database_url=database_url,
        tracing_enabled=traced,
        tracing_otlp_endpoint="",
        relay_poll_interval_seconds=0.05,
        **bus,
    )


def _events_settings(database_url: str, **bus: Any) -> EventsSettings:
    return EventsSettings(
        database_url=database_url,
        tracing_enabled=True,
        tracing_otlp_endpoint="",
        schedule_interval_seconds=3600,
        **bus,
    )


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


def _traceparent(span: ReadableSpan) -> str:
    context = span.context
    assert context is not None
    trace_id, span_id = (
        trace.format_trace_id(context.trace_id),
        trace.format_span_id(context.span_id),
    )
    return f"00-{trace_id}-{span_id}-{context.trace_flags:02x}"


def _child_of(span: ReadableSpan, parent: ReadableSpan) -> bool:
    return (
        span.parent is not None
        and parent.context is not None
        and (span.parent.trace_id, span.parent.span_id)
        == (parent.context.trace_id, parent.context.span_id)
    )


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
    events_app = create_events_app(_events_settings(tracing_database))
    customer_spans = _recording(customer_app.state.tracer_provider)
    detector_spans = _recording(events_app.state.tracer_provider)
    settings = CustomerSettings(database_url=tracing_database)
    async with serving(customer_app) as customer, serving(events_app):
        created = await customer.post("/v1/customers", json=individual())
        customer_id = created.json()["id"]

        def handled() -> list[ReadableSpan]:
            return [
                s
                for s in detector_spans.get_finished_spans()
                if s.name == f"process {Topic.CUSTOMER}" and s.kind is SpanKind.CONSUMER
            ]

        async def detector_handled_it() -> bool:
            return bool(handled())

        await wait_until(detector_handled_it, timeout=30)
        await customer.get("/healthz")

    finished = customer_spans.get_finished_spans()
    (request,) = [s for s in finished if s.kind is SpanKind.SERVER]
    sends = [s for s in finished if s.kind is SpanKind.PRODUCER]
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
    # The outbox row carries the request's trace, the relay's send continues it, the message
    # on the bus carries the send...
    assert _trace_id(written) == request.context.trace_id
    assert sends  # the registration and the customer's first segment
    assert all(_continues(send, written) for send in sends)
    assert {(s.name, (s.attributes or {}).get("messaging.system")) for s in sends} == {
        (f"send {Topic.CUSTOMER}", "local")
    }
    assert published in {_traceparent(send) for send in sends}
    # ...and the detector's handling continues that.
    assert any(_continues(span, published) for span in handled())


@pytest.mark.kafka
async def test_on_kafka_a_channels_request_the_write_the_send_and_the_handling_are_one_trace(
    tracing_database: str, kafka_bootstrap: str
) -> None:
    on_kafka = {"bus": "kafka", "kafka_bootstrap_servers": kafka_bootstrap}
    customer_app = create_customer_app(
        _customer_settings(tracing_database, traced=True, **on_kafka)
    )
    events_app = create_events_app(_events_settings(tracing_database, **on_kafka))
    channel = TracerProvider()  # the channel's own tracing: the trace begins at its call
    channel_spans = _recording(channel)
    customer_spans = _recording(customer_app.state.tracer_provider)
    detector_spans = _recording(events_app.state.tracer_provider)
    async with serving(customer_app) as customer, serving(events_app):
        detector: ServiceRuntime = events_app.state.runtime
        assert detector.consumer is not None
        # Every earlier test's events on the shared broker handled first: the detector's
        # handling of this request's events is then a batch of theirs alone.
        await wait_until(detector.consumer.caught_up, timeout=60)
        trace_http_client(customer, channel)
        created = await customer.post("/v1/customers", json=individual())
        (call,) = channel_spans.get_finished_spans()
        assert call.context is not None
        trace_id = call.context.trace_id

        def handled() -> list[ReadableSpan]:
            return [
                s
                for s in detector_spans.get_finished_spans()
                if s.kind is SpanKind.CONSUMER and s.context and s.context.trace_id == trace_id
            ]

        async def detector_handled_it() -> bool:
            return bool(handled())

        await wait_until(detector_handled_it, timeout=60)

    customer_id = created.json()["id"]
    finished = customer_spans.get_finished_spans()
    (request,) = [s for s in finished if s.kind is SpanKind.SERVER]
    (registration,) = [
        s
        for s in finished
        if s.kind is SpanKind.CLIENT
        and str((s.attributes or {}).get("db.statement", "")).startswith("INSERT INTO customers ")
    ]
    sends = [s for s in finished if s.kind is SpanKind.PRODUCER]
    written = await scalar(
        CustomerSettings(database_url=tracing_database),
        "SELECT string_agg(DISTINCT traceparent, ',') FROM outbox WHERE message_key = :c",
        c=customer_id,
    )
    messages = await read_for_keys(
        kafka_bootstrap, Topic.CUSTOMER, {customer_id}, expected=len(sends)
    )
    carried = {str(EventEnvelope.from_headers(m.headers).traceparent) for m in messages}

    assert created.status_code == 201
    # The channel's call is the root; the customer service's request continues it...
    assert (call.kind, call.name, call.parent) == (SpanKind.CLIENT, "POST", None)
    assert request.name == "POST /v1/customers"
    assert _child_of(request, call)
    # ...and writes the customer in a database span of its own.
    assert registration.kind is SpanKind.CLIENT
    assert _child_of(registration, request)
    assert (registration.attributes or {}).get("db.system") == "postgresql"
    # The request wrote the events; the relay's sends continue it, one per event...
    assert isinstance(written, str)
    assert _continues(request, written) or _traceparent(request) == written
    assert sends
    assert all(_child_of(send, request) for send in sends)
    assert {(s.name, (s.attributes or {}).get("messaging.system")) for s in sends} == {
        (f"send {Topic.CUSTOMER}", "kafka")
    }
    # ...each message on Kafka carries its send...
    assert carried == {_traceparent(send) for send in sends}
    # ...and the detector's handling in the events service continues the sends.
    for handling in handled():
        assert any(_continues(handling, sent) for sent in carried)
        assert handling.parent is not None
        assert handling.parent.span_id in {s.context.span_id for s in sends if s.context}
    spans = [call, request, registration, *sends, *handled()]
    assert {s.context.trace_id for s in spans if s.context} == {trace_id}


async def test_a_screen_pops_lookup_is_a_client_span_the_customer_service_continues(
    tracing_database: str,
) -> None:
    customer_app = create_customer_app(_customer_settings(tracing_database, traced=True))
    contact_app = create_contact_app(
        ContactSettings(
            database_url=tracing_database, tracing_enabled=True, tracing_otlp_endpoint=""
        ),
        customer_transport=httpx.ASGITransport(app=customer_app),
    )
    customer_spans = _recording(customer_app.state.tracer_provider)
    contact_spans = _recording(contact_app.state.tracer_provider)
    caller = new_mobile()  # nobody's: the projection does not know it, so it is looked up
    async with serving(customer_app), serving(contact_app) as contact:
        arrived = await contact.post(
            "/v1/calls", json={"dialled_number": "95588", "caller_number": caller, "at": at(0)}
        )

    (call_in,) = [s for s in contact_spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    (lookup,) = [
        s
        for s in contact_spans.get_finished_spans()
        if s.kind is SpanKind.CLIENT and "http.url" in (s.attributes or {})
    ]
    (answer,) = [s for s in customer_spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert arrived.status_code == 201
    assert arrived.json()["screen_pop"]["customer_id"] is None
    assert _child_of(lookup, call_in)
    assert _child_of(answer, lookup)
    assert answer.name == "GET /v1/customers/lookup"
    assert (lookup.attributes or {})["http.url"] == "http://127.0.0.1:8001/v1/customers/lookup"
    assert caller not in str(lookup.attributes)


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


async def test_a_call_to_another_service_is_a_client_span_carried_in_its_headers() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"matches": []})

    provider = TracerProvider()
    spans = _recording(provider)
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(answer)) as untraced,
        httpx.AsyncClient(transport=httpx.MockTransport(answer)) as traced,
    ):
        trace_http_client(untraced, None)
        trace_http_client(traced, provider)
        with provider.get_tracer("test").start_as_current_span("screen pop"):
            await untraced.get("http://customer.test/v1/customers/lookup?phone=13800138000")
            await traced.get("http://customer.test/v1/customers/lookup?phone=13800138000")

    screen_pop, call = sorted(spans.get_finished_spans(), key=lambda s: s.kind is SpanKind.CLIENT)
    assert "traceparent" not in seen[0].headers  # tracing off: the client is left as it was
    assert call.kind is SpanKind.CLIENT
    assert _child_of(call, screen_pop)
    assert seen[1].headers["traceparent"] == _traceparent(call)
    # The caller's phone number stays out of the trace.
    assert call.attributes is not None
    urls = [call.attributes[k] for k in ("http.url", "url.full") if k in call.attributes]
    assert urls == ["http://customer.test/v1/customers/lookup"]


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
