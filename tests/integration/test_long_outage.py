"""A long outage of the bus or the database does not end the relay or a consumer.

The pauses between failed rounds are computed from the count of consecutive failures, which
grows for as long as an outage lasts; a formula that overflowed past about 1,024 failures once
ended both loops silently after some 85 minutes at the 5 s cap. Here the outage is 2,000
consecutive failures with a schedule of sub-millisecond pauses (the same code, on a faster
clock), against the real database and both buses, and each loop must still be running and
delivering once the outage ends.
"""

import asyncio
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from shared.backoff import RetryPauses
from shared.bus import Bus, BusConsumer, BusUnavailableError, OutgoingMessage
from shared.consumer import EventConsumer
from shared.envelope import EventEnvelope
from shared.metrics import ServiceMetrics
from shared.outbox_relay import OutboxRelay
from tests.integration.mechanics import (
    ProbeEvent,
    effects,
    new_probe_type,
    read_topic,
    record_in_outbox,
    recording_handler,
)
from tests.waiting import wait_until

OUTAGE_FAILURES = 2_000
FAST_CLOCK = RetryPauses(first=0.0001, longest=0.0005)


class BusWithAnOutage:
    """The real bus, unreachable for its first ``failures`` publishes and topic checks."""

    def __init__(self, bus: Bus, *, failures: int) -> None:
        self._bus = bus
        self.failures_left = failures

    def _unreachable(self) -> bool:
        if self.failures_left > 0:
            self.failures_left -= 1
            return True
        return False

    async def start(self) -> None:
        await self._bus.start()

    async def stop(self) -> None:
        await self._bus.stop()

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        if self._unreachable():
            raise BusUnavailableError("broker unreachable (injected)")
        await self._bus.ensure_topics(topics)

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if self._unreachable():
            raise BusUnavailableError("broker unreachable (injected)")
        await self._bus.publish(messages)

    def consumer(self, group: str, topics: Sequence[str], *, linger_ms: int = 0) -> BusConsumer:
        return self._bus.consumer(group, topics, linger_ms=linger_ms)

    async def ping(self) -> None:
        await self._bus.ping()


class TestALongOutage:
    async def test_the_relay_outlives_2000_failed_rounds_and_then_publishes(
        self, bus: Bus, sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
    ) -> None:
        probe = new_probe_type()
        await bus.ensure_topics([probe.topic])
        outage = BusWithAnOutage(bus, failures=OUTAGE_FAILURES)
        relay = OutboxRelay(
            sessions,
            outage,
            schema="mechanics",
            metrics=metrics,
            batch_size=500,
            poll_interval=0.05,
            pauses=FAST_CLOCK,
        )
        await record_in_outbox(sessions, probe(customer_id="C1", sequence=1))
        task = asyncio.create_task(relay.run())
        try:

            async def outage_over() -> bool:
                return outage.failures_left == 0 or task.done()

            await wait_until(outage_over, timeout=180, every=0.05)
            assert not task.done(), "the relay ended during the outage"
            await record_in_outbox(sessions, probe(customer_id="C1", sequence=2))
            relay.wake()
            on_topic = await read_topic(bus, probe.topic, expected=2, timeout=30)
            assert not task.done()
        finally:
            relay.stop()
            relay.wake()
            await asyncio.wait_for(task, 30)
        assert sorted(ProbeEvent.model_validate_json(m.value).sequence for m in on_topic) == [1, 2]
        assert metrics.registry.get_sample_value("crm_outbox_relay_failures_total") == (
            OUTAGE_FAILURES
        )

    async def test_a_consumer_outlives_2000_failed_starts_and_handlings_and_then_applies(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        relay = OutboxRelay(
            sessions, bus, schema="mechanics", metrics=metrics, batch_size=500, poll_interval=0.05
        )
        await record_in_outbox(sessions, probe(customer_id="C2", sequence=1))
        while await relay.publish_pending():
            pass
        database_down_for = {"handlings": OUTAGE_FAILURES}
        record = recording_handler(group)

        async def handler_on_a_database_that_is_away(
            session: AsyncSession, event: ProbeEvent, envelope: EventEnvelope
        ) -> None:
            if database_down_for["handlings"] > 0:
                database_down_for["handlings"] -= 1
                raise ConnectionRefusedError("database unreachable (injected)")
            await record(session, event, envelope)  # type: ignore[operator]

        consumer = EventConsumer(
            bus=BusWithAnOutage(bus, failures=OUTAGE_FAILURES),
            sessions=sessions,
            group=group,
            handlers={probe: handler_on_a_database_that_is_away},
            metrics=metrics,
            max_attempts=3,
            retry_backoff=0.0001,
            batch_size=50,
            pauses=FAST_CLOCK,
        )
        task = asyncio.create_task(consumer.run())
        try:

            async def applied_or_ended() -> bool:
                return bool(await effects(engine, group)) or task.done()

            await wait_until(applied_or_ended, timeout=180, every=0.1)
            assert not task.done(), "the consumer ended during the outage"
        finally:
            consumer.stop()
            await asyncio.wait_for(task, 30)
        assert database_down_for["handlings"] == 0
        assert [sequence for _, sequence, _ in await effects(engine, group)] == [1]
