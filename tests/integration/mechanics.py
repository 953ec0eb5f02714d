"""What the mechanism tests share: a test event type, a handler with a visible effect, and
helpers to build each bus backend and read topics back."""

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import ClassVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contracts.base import DomainEvent
from shared.bus import Bus, BusConsumer, ReceivedMessage
from shared.bus.kafka import KafkaBus
from shared.bus.local import LocalBus
from shared.envelope import EventEnvelope
from shared.logging import current_correlation_id
from shared.outbox import record_event

PARTITIONS = 4


class ProbeEvent(DomainEvent):
    """Base of the per-test event types; each test gets a type and topic of its own."""

    customer_id: str
    sequence: int
    fail: bool = False


async def record_in_outbox(sessions: async_sessionmaker[AsyncSession], *events: ProbeEvent) -> None:
    """The events written to the outbox in one transaction, as a producing service's change."""
    async with sessions() as session, session.begin():
        for event in events:
            await record_event(session, event)


def new_probe_type() -> type[ProbeEvent]:
    unique = uuid.uuid4().hex[:10]
    attributes: dict[str, object] = {
        "event_type": f"crm.test.probed_{unique}.v1",
        "topic": f"crm.test.{unique}",
        "__annotations__": {"event_type": ClassVar[str], "topic": ClassVar[str]},
    }
    return type(f"Probed{unique}", (ProbeEvent,), attributes)


EFFECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS probe_effects ("
    " applied_order bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " group_id text NOT NULL, event_id text NOT NULL, customer_id text NOT NULL,"
    " sequence integer NOT NULL, correlation_id text)"
)


def recording_handler(group: str, *, failures: dict[int, int] | None = None) -> object:
    """A handler whose effect is a row per applied event; ``fail=True`` events always raise."""

    async def handle(session: AsyncSession, event: ProbeEvent, envelope: EventEnvelope) -> None:
        await session.execute(
            text(
                "INSERT INTO probe_effects "
                "(group_id, event_id, customer_id, sequence, correlation_id) "
                "VALUES (:g, :e, :c, :s, :r)"
            ),
            {
                "g": group,
                "e": envelope.id,
                "c": event.customer_id,
                "s": event.sequence,
                # What the handler's logs and the events it causes carry.
                "r": current_correlation_id(),
            },
        )
        if event.fail:
            raise RuntimeError(f"handler refuses event {event.sequence}")

    return handle


async def correlation_ids(engine: AsyncEngine, group: str) -> set[str | None]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT DISTINCT correlation_id FROM probe_effects WHERE group_id = :g"),
            {"g": group},
        )
        return {row.correlation_id for row in rows}


async def effects(engine: AsyncEngine, group: str) -> list[tuple[str, int, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT customer_id, sequence, event_id FROM probe_effects "
                "WHERE group_id = :g ORDER BY applied_order"
            ),
            {"g": group},
        )
        return [(row.customer_id, row.sequence, row.event_id) for row in rows]


def make_bus(backend: str, *, engine: AsyncEngine, kafka_bootstrap: str | None) -> Bus:
    if backend == "kafka":
        assert kafka_bootstrap is not None
        return KafkaBus(
            kafka_bootstrap, client_id="crm-test", partitions=PARTITIONS, replication_factor=1
        )
    return LocalBus(engine, partitions=PARTITIONS)


async def drain(
    consumer: BusConsumer, *, expected: int, timeout: float = 30.0
) -> list[ReceivedMessage]:
    """Read until ``expected`` messages arrived (committing them) or ``timeout`` passed."""
    received: list[ReceivedMessage] = []
    async with asyncio.timeout(timeout):
        while len(received) < expected:
            batch = await consumer.poll(max_records=500, timeout=0.5)
            received.extend(batch)
            await consumer.commit({(m.topic, m.partition): m.offset + 1 for m in batch})
    return received


async def read_topic(
    bus: Bus, topic: str, *, expected: int, timeout: float = 30.0
) -> list[ReceivedMessage]:
    consumer = bus.consumer(f"reader-{uuid.uuid4().hex[:8]}", [topic])
    await consumer.start()
    try:
        return await drain(consumer, expected=expected, timeout=timeout)
    finally:
        await consumer.stop()


def ids_of(messages: Sequence[ReceivedMessage]) -> list[str]:
    return [EventEnvelope.from_headers(m.headers).id for m in messages]


async def read_for_keys(
    bootstrap: str, topic: str, keys: set[str], *, expected: int, timeout: float = 60.0
) -> list[ReceivedMessage]:
    """From the beginning of a Kafka topic, the messages keyed by ``keys`` (other tests share
    the broker and its topics), until ``expected`` have arrived."""
    return await read_until(
        bootstrap, topic, keys, lambda found: len(found) >= expected, timeout=timeout
    )


async def read_until(
    bootstrap: str,
    topic: str,
    keys: set[str],
    enough: Callable[[list[ReceivedMessage]], bool],
    *,
    timeout: float = 60.0,
) -> list[ReceivedMessage]:
    """From the beginning of a Kafka topic, the messages keyed by ``keys``, until ``enough``
    says so."""
    # Six partitions, as the services create their topics, should this reader come first.
    bus = KafkaBus(bootstrap, client_id="crm-test", partitions=6, replication_factor=1)
    await bus.start()
    await bus.ensure_topics([topic])
    consumer = bus.consumer(f"reader-{uuid.uuid4().hex[:8]}", [topic])
    await consumer.start()
    found: list[ReceivedMessage] = []
    try:
        async with asyncio.timeout(timeout):
            while not enough(found):
                batch = await consumer.poll(max_records=500, timeout=0.5)
                found += [m for m in batch if m.key is not None and m.key.decode() in keys]
    finally:
        await consumer.stop()
        await bus.stop()
    return found
