"""The local bus's append of a relay round straight from the outbox (one ``INSERT … SELECT``)
writes the messages the relay would have built in Python and published: same partition, key,
value and envelope."""

import uuid

from sqlalchemy import Text, cast, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.bus import AppendsFromOutbox, ReceivedMessage
from shared.bus.local import LocalBus
from shared.bus.local_log import partition_for
from shared.db import create_engine
from shared.envelope import EventEnvelope
from shared.logging import correlation_id_var
from shared.metrics import ServiceMetrics
from shared.outbox import OutboxRecord, to_message
from shared.outbox_relay import OutboxRelay
from shared.settings import SharedSettings
from tests.integration.mechanics import PARTITIONS, new_probe_type, read_topic, record_in_outbox


class TestAppendFromOutbox:
    async def test_it_appends_what_publishing_the_built_messages_would(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        bus = LocalBus(engine, partitions=PARTITIONS)
        await bus.start()
        probe = new_probe_type()
        await bus.ensure_topics([probe.topic])
        await record_in_outbox(
            sessions, *(probe(customer_id=f"C{i}", sequence=i) for i in range(3))
        )
        token = correlation_id_var.set(f"corr-{uuid.uuid4().hex[:8]}")
        try:
            await record_in_outbox(
                sessions, *(probe(customer_id=f"C{i}", sequence=i) for i in range(3, 7))
            )
        finally:
            correlation_id_var.reset(token)
        async with sessions() as session:
            rows = (
                await session.execute(
                    # The payload's text as the relay reads it (the column's, not re-encoded).
                    select(OutboxRecord, cast(OutboxRecord.payload, Text).label("text")).where(
                        OutboxRecord.topic == probe.topic
                    )
                )
            ).all()
        written = [record for record, _ in rows]
        expected = {str(record.event_id): to_message(record) for record in written}
        payloads = {str(record.event_id): text.encode() for record, text in rows}
        relay = OutboxRelay(
            sessions, bus, schema="mechanics", metrics=metrics, batch_size=5, poll_interval=1
        )

        while await relay.publish_pending():
            pass
        received = await read_topic(bus, probe.topic, expected=len(expected))

        # The relay took this way: the bus is on the relay's own engine.
        assert isinstance(bus, AppendsFromOutbox)
        assert bus.appends_from(sessions.kw["bind"])
        assert any(record.correlation_id for record in written)
        assert len(received) == len(expected) == 7
        for message in received:
            envelope = EventEnvelope.from_headers(message.headers)
            built = expected[envelope.id]
            assert _placed(message) == (built.topic, built.key, payloads[envelope.id])
            assert message.partition == partition_for(built.key, PARTITIONS)
            assert envelope == EventEnvelope.from_headers(built.headers)
            assert [name for name, _ in message.headers] == [name for name, _ in built.headers]


def _placed(message: ReceivedMessage) -> tuple[str, bytes | None, bytes]:
    return message.topic, message.key, message.value


class TestOnlyFromItsOwnOutbox:
    async def test_a_bus_on_another_engine_takes_built_messages(
        self, mechanics_settings: SharedSettings, engine: AsyncEngine
    ) -> None:
        elsewhere = create_engine(mechanics_settings)
        try:
            # Another engine may be another database, whose outbox has other rows by those
            # sequence numbers: the relay then publishes the messages it built.
            assert not LocalBus(elsewhere, partitions=PARTITIONS).appends_from(engine)
            assert LocalBus(engine, partitions=PARTITIONS).appends_from(engine)
        finally:
            await elsewhere.dispose()
