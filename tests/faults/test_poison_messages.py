"""A poison message on each topic a service consumes: it goes to ``<topic>.dlq`` with its
error, and the partition goes on (the good event behind it, same key, is applied).

Each service runs as in production (its app, its consumer, the local bus) on a database of
its own, so that its consumer has only these messages to read."""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest

from contracts.base import DomainEvent
from contracts.catalogue import dead_letter_topic
from contracts.complaints import ComplaintReceived
from contracts.contact_center import CallEnded, OutboundAttempted
from contracts.opportunities import OpportunityCreated
from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from shared.bus import ReceivedMessage
from shared.bus.local import LocalBus
from shared.db import create_engine
from shared.envelope import EventEnvelope
from shared.settings import SharedSettings
from tests.conftest import database_of_its_own
from tests.reporting import report
from tests.service.conftest import message_of, scalar, serving
from tests.service.customer.factories import create_customer
from tests.service.events.conftest import NOW, contact, posted, registered
from tests.waiting import wait_until


@pytest.fixture(scope="module")
async def poison_database(postgres_server: EmbeddedPostgres) -> str:
    return await database_of_its_own(postgres_server, "crm_poison_test")


def _complaint(customer_id: uuid.UUID) -> ComplaintReceived:
    return ComplaintReceived(
        complaint_id=uuid.uuid4(), customer_id=customer_id, channel="phone", category="fees",
        priority="normal", received_at=NOW, due_at=NOW,
    )  # fmt: skip


def _opportunity(customer_id: uuid.UUID) -> OpportunityCreated:
    return OpportunityCreated(
        opportunity_id=uuid.uuid4(), customer_id=customer_id, rule_id="large_deposit",
        rule_version=1, action="up_sell", product="wealth", priority=50, owner="manager",
        owner_id=None, channel="phone", due_at=NOW, expires_at=NOW, facts={},
    )  # fmt: skip


def _call(customer_id: uuid.UUID) -> OutboundAttempted:
    return OutboundAttempted(
        customer_id=customer_id, attempt_id=uuid.uuid4(), opportunity_id=None,
        result="no_answer", attempt=1, agent_id=None, attempted_at=NOW,
    )  # fmt: skip


def _call_ended(customer_id: uuid.UUID) -> CallEnded:
    return CallEnded(
        call_id=uuid.uuid4(), customer_id=customer_id, outcome="completed", queue="general",
        agent_id="A1", wrap_up_code="enquiry", resolved=True, transfers=0, wait_seconds=5,
        handle_seconds=60, ended_at=NOW, complaint=None,
    )  # fmt: skip


Factory = Callable[[uuid.UUID], DomainEvent]
# (service, a good event of each topic it consumes)
CASES: list[tuple[str, Factory]] = [
    ("customer", lambda c: posted(c, 100)),
    ("customer", lambda c: contact(c, NOW)),
    ("customer", _complaint),
    ("customer", _opportunity),
    ("complaints", registered),
    ("complaints", _call_ended),
    ("contact_center", registered),
    ("contact_center", _opportunity),
    ("events", registered),
    ("events", lambda c: posted(c, 100)),
    ("events", lambda c: contact(c, NOW)),
    ("events", _complaint),
    ("events", _call),
]


async def _dead_letter_of(bus: LocalBus, topic: str, key: str) -> ReceivedMessage:
    """The dead letter keyed ``key`` (other cases dead-letter on the same topics)."""
    consumer = bus.consumer(f"reader-{uuid.uuid4().hex[:8]}", [topic])
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while True:
                batch = await consumer.poll(max_records=500, timeout=0.5)
                for message in batch:
                    if message.key == key.encode():
                        return message
                # The local bus moves a group on by its commits.
                await consumer.commit({(m.topic, m.partition): m.offset + 1 for m in batch})
    finally:
        await consumer.stop()


@pytest.mark.parametrize(
    ("service", "good"), CASES, ids=[f"{s}-{f(uuid.uuid4()).topic}" for s, f in CASES]
)
async def test_a_poison_message_is_dead_lettered_and_the_partition_goes_on(
    poison_database: str, service: str, good: Factory
) -> None:
    spec = SERVICES[service]
    settings: SharedSettings = spec.settings_class(
        database_url=poison_database, relay_poll_interval_seconds=0.05
    )
    # Valid CloudEvents headers of a type the service handles, and a body that is not its
    # model: the handler can never apply it.
    engine = create_engine(settings)
    bus = LocalBus(engine, partitions=settings.local_bus_partitions)
    try:
        async with serving(spec.create_app(settings)) as client:
            # The customer service applies contacts to customers it knows.
            customer_id = (
                uuid.UUID((await create_customer(client))["id"])
                if service == "customer"
                else uuid.uuid4()
            )
            event = good(customer_id)
            poison = replace(
                message_of(event, source="/crm/test"),
                value=b'{"customer_id": "%s"}' % str(customer_id).encode(),
            )
            behind = message_of(event, source="/crm/test")
            await bus.start()
            await bus.ensure_topics([event.topic])
            await bus.publish([poison, behind])

            async def good_one_applied() -> bool:
                # The consumer's inbox holds the ids of the events it applied.
                applied = await scalar(
                    settings,
                    "SELECT count(*) FROM inbox WHERE consumer_group = :g AND event_id = :e",
                    g=f"crm-{service}", e=EventEnvelope.from_headers(behind.headers).id,
                )  # fmt: skip
                return applied == 1

            await wait_until(good_one_applied, timeout=30)
        message = await _dead_letter_of(bus, dead_letter_topic(event.topic), str(customer_id))
    finally:
        await bus.stop()
        await engine.dispose()
    headers = dict(message.headers)
    report(
        f"\npoison on {event.topic} for {service}: dead-lettered 1 "
        f"({headers['dlq_error'].decode()[:40]}…), the good event behind it applied 1"
    )
    assert headers["dlq_error"].startswith(b"ValidationError")
    assert headers["dlq_original_topic"].decode() == event.topic
    assert headers["dlq_consumer_group"].decode() == f"crm-{service}"
    assert EventEnvelope.from_headers(message.headers).type == event.event_type
