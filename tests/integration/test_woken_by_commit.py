"""The relay and the local bus's consumers woken by commits in other processes (PostgreSQL
LISTEN/NOTIFY), not by their timers.

The relay here runs as a worker process's would: on an engine of its own, a minute between
polls, woken only by what it hears on its outbox's channel. The writer is the test, on another
engine, as an API process would be."""

import asyncio
import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.bus import Bus, ReceivedMessage
from shared.bus.local import LocalBus
from shared.db import create_engine, create_sessionmaker
from shared.metrics import ServiceMetrics
from shared.notify import NotificationListener, listener_dsn
from shared.outbox import outbox_channel, record_event
from shared.outbox_relay import OutboxRelay
from shared.settings import SharedSettings
from tests.integration.mechanics import PARTITIONS, new_probe_type, record_in_outbox
from tests.waiting import wait_until

POLL_INTERVAL = 60.0
WITHIN = 1.0


@dataclass
class RelayElsewhere:
    relay: OutboxRelay
    sessions: async_sessionmaker[AsyncSession]
    notifications: list[float] = field(default_factory=list)
    heard: asyncio.Event = field(default_factory=asyncio.Event)

    def notified(self) -> None:
        self.notifications.append(time.monotonic())
        self.heard.set()
        self.relay.wake()

    def forget(self) -> None:
        self.notifications.clear()
        self.heard.clear()

    async def published_at(self, event_id: uuid.UUID) -> bool:
        async with self.sessions() as session:
            published = await session.scalar(
                text("SELECT published_at IS NOT NULL FROM outbox WHERE event_id = :e"),
                {"e": event_id},
            )
        return bool(published)


async def _unpublished(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        sql = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        return int(await conn.scalar(text(sql)) or 0)


@contextlib.asynccontextmanager
async def relay_elsewhere(
    settings: SharedSettings, bus: Bus, metrics: ServiceMetrics
) -> AsyncIterator[RelayElsewhere]:
    """A relay on an engine of its own that polls once a minute and listens for commits; yields
    once it listens and has drained what earlier tests left."""
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    relay = OutboxRelay(
        sessions,
        bus,
        schema=settings.db_schema,
        metrics=metrics,
        batch_size=200,
        poll_interval=POLL_INTERVAL,
    )
    elsewhere = RelayElsewhere(relay, sessions)
    listener = NotificationListener(
        listener_dsn(engine), outbox_channel(settings.db_schema), elsewhere.notified
    )
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(listener.run())]
    try:
        await asyncio.wait_for(listener.listening.wait(), timeout=10)

        async def drained() -> bool:
            return await _unpublished(engine) == 0

        await wait_until(drained, timeout=10)
        await asyncio.sleep(0.2)  # the round the listener's first wake asked for
        elsewhere.forget()
        yield elsewhere
    finally:
        relay.stop()
        listener.stop()
        await asyncio.gather(*tasks)
        await engine.dispose()


async def _time_to_publish(elsewhere: RelayElsewhere, event_id: uuid.UUID) -> float:
    started = time.monotonic()

    async def published() -> bool:
        return await elsewhere.published_at(event_id)

    await wait_until(published, timeout=POLL_INTERVAL / 2, every=0.01)
    return time.monotonic() - started


class TestTheRelayIsWokenByTheCommit:
    async def test_a_committed_event_is_published_within_a_second(
        self,
        mechanics_settings: SharedSettings,
        sessions: async_sessionmaker[AsyncSession],
        bus: Bus,
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        await bus.ensure_topics([probe.topic])
        async with relay_elsewhere(mechanics_settings, bus, metrics) as elsewhere:
            async with sessions() as session, session.begin():
                event_id = await record_event(session, probe(customer_id="C1", sequence=1))

            took = await _time_to_publish(elsewhere, event_id)

        assert took < WITHIN, f"published {took:.2f} s after the commit"
        assert elsewhere.notifications

    async def test_a_rolled_back_transaction_wakes_and_publishes_nothing(
        self,
        mechanics_settings: SharedSettings,
        sessions: async_sessionmaker[AsyncSession],
        bus: Bus,
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        await bus.ensure_topics([probe.topic])
        async with relay_elsewhere(mechanics_settings, bus, metrics) as elsewhere:

            async def write_then_fail() -> None:
                async with sessions() as session, session.begin():
                    await record_event(session, probe(customer_id="C1", sequence=1))
                    raise RuntimeError("the change fails after writing its event")

            with pytest.raises(RuntimeError):
                await write_then_fail()
            await asyncio.sleep(WITHIN)
            heard_after_rollback = list(elsewhere.notifications)
            published_after_rollback = metrics.registry.get_sample_value(
                "crm_events_published_total", {"topic": probe.topic}
            )
            # The same relay does hear a commit: the silence above is the rollback's.
            await record_in_outbox(sessions, probe(customer_id="C1", sequence=2))
            await asyncio.wait_for(elsewhere.heard.wait(), WITHIN)

        assert heard_after_rollback == []
        assert published_after_rollback is None

    async def test_several_writes_of_one_transaction_notify_once(
        self,
        mechanics_settings: SharedSettings,
        sessions: async_sessionmaker[AsyncSession],
        bus: Bus,
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        await bus.ensure_topics([probe.topic])
        async with relay_elsewhere(mechanics_settings, bus, metrics) as elsewhere:
            await record_in_outbox(
                sessions, *(probe(customer_id=f"C{i}", sequence=i) for i in range(5))
            )
            await asyncio.sleep(WITHIN)

        assert len(elsewhere.notifications) == 1


# Appends one message to the local bus from a process of its own, then prints the clock.
_APPEND_ELSEWHERE = """
import asyncio, sys, time
from sqlalchemy.ext.asyncio import create_async_engine
from shared.bus import OutgoingMessage
from shared.bus.local import LocalBus

async def main(url, topic, partitions):
    engine = create_async_engine(url)
    bus = LocalBus(engine, partitions=partitions)
    await bus.publish([OutgoingMessage(topic=topic, key=b"C1", value=b"{}")])
    print(time.time(), flush=True)
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


class TestLocalBusConsumersAreWokenByAppends:
    async def test_an_append_by_another_process_wakes_a_waiting_consumer(
        self, mechanics_settings: SharedSettings, engine: AsyncEngine
    ) -> None:
        bus = LocalBus(engine, partitions=PARTITIONS)
        await bus.start()
        topic = f"crm.test.{uuid.uuid4().hex[:10]}"
        await bus.ensure_topics([topic])
        consumer = bus.consumer(f"woken-{uuid.uuid4().hex[:8]}", [topic])
        await consumer.start()
        try:
            await asyncio.wait_for(consumer.listener.listening.wait(), timeout=10)
            assert await consumer.poll(max_records=10, timeout=0.01) == []

            async def poll_and_clock() -> tuple[list[ReceivedMessage], float]:
                found = await consumer.poll(max_records=10, timeout=POLL_INTERVAL)
                return found, time.time()

            waiting = asyncio.create_task(poll_and_clock())
            url = mechanics_settings.database_url.get_secret_value()
            appender = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _APPEND_ELSEWHERE,
                url,
                topic,
                str(PARTITIONS),
                stdout=subprocess.PIPE,
            )
            output, _ = await asyncio.wait_for(appender.communicate(), timeout=60)
            received, woken_at = await asyncio.wait_for(waiting, timeout=POLL_INTERVAL / 2)
        finally:
            await consumer.stop()

        assert appender.returncode == 0
        assert [m.key for m in received] == [b"C1"]
        took = woken_at - float(output.decode().strip())
        assert took < WITHIN, f"the consumer had the message {took:.2f} s after the append"
