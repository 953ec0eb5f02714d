"""Outbox, relay, inbox, retries and dead letters, end to end on both bus backends."""

import asyncio
import contextlib
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from contracts.catalogue import dead_letter_topic
from shared.bus import Bus, OutgoingMessage
from shared.consumer import EventConsumer
from shared.envelope import EventEnvelope
from shared.metrics import ServiceMetrics
from shared.outbox import OutboxRecord, record_event, to_message
from shared.outbox_relay import OutboxRelay
from tests.integration.mechanics import (
    ProbeEvent,
    correlation_ids,
    drain,
    effects,
    ids_of,
    make_bus,
    new_probe_type,
    read_topic,
    record_in_outbox,
    recording_handler,
)
from tests.reporting import report
from tests.waiting import wait_until


def _relay(
    sessions: async_sessionmaker[AsyncSession], bus: Bus, metrics: ServiceMetrics
) -> OutboxRelay:
    return OutboxRelay(
        sessions, bus, schema="mechanics", metrics=metrics, batch_size=500, poll_interval=0.1
    )


def _consumer(
    bus: Bus,
    sessions: async_sessionmaker[AsyncSession],
    metrics: ServiceMetrics,
    probe: type[ProbeEvent],
    group: str,
    *,
    max_attempts: int = 3,
    handler: object | None = None,
    batch_size: int = 50,
) -> EventConsumer:
    """A consumer of the probe type; by default its handler is the recording one."""
    return EventConsumer(
        bus=bus,
        sessions=sessions,
        group=group,
        handlers={probe: handler or recording_handler(group)},  # type: ignore[dict-item]
        metrics=metrics,
        max_attempts=max_attempts,
        retry_backoff=0.01,
        batch_size=batch_size,
    )


def _batched_consumer(
    bus: Bus,
    sessions: async_sessionmaker[AsyncSession],
    metrics: ServiceMetrics,
    probe: type[ProbeEvent],
    group: str,
    runs: list[int],
    partitions: list[set[int]] | None = None,
    *,
    batch_size: int = 50,
    linger_ms: int = 0,
) -> EventConsumer:
    """A consumer whose batch handler applies a run with the recording handler, noting the
    size of each run it is given in ``runs`` (and the partitions it came from)."""
    single = recording_handler(group)

    async def batch(session: AsyncSession, items: list[tuple[ProbeEvent, EventEnvelope]]) -> None:
        runs.append(len(items))
        if partitions is not None:
            partitions.append({env.position[1] for _, env in items if env.position is not None})
        for event, envelope in items:
            await single(session, event, envelope)  # type: ignore[operator]

    return EventConsumer(
        bus=bus, sessions=sessions, group=group,
        handlers={probe: single},  # type: ignore[dict-item]
        metrics=metrics, max_attempts=2, retry_backoff=0.01, batch_size=batch_size,
        linger_ms=linger_ms, batch_handler=batch,
    )  # fmt: skip


@contextlib.asynccontextmanager
async def running(consumer: EventConsumer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(consumer.run())
    try:
        yield task
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 30)


def sample(metrics: ServiceMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def _published(
    sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    metrics: ServiceMetrics,
    *events: ProbeEvent,
) -> None:
    """Record the events in the outbox and relay them all, as a producing service would."""
    await record_in_outbox(sessions, *events)
    while await _relay(sessions, bus, metrics).publish_pending():
        pass


async def _die() -> None:
    raise ConnectionResetError("relay process killed after publishing")


async def _published_twice(
    sessions: async_sessionmaker[AsyncSession], bus: Bus, metrics: ServiceMetrics
) -> None:
    """What waits in the outbox, published twice: the relay dies after publishing, before
    marking, and its restart sends the same events again."""
    relay = _relay(sessions, bus, metrics)
    relay.after_publish = _die
    with contextlib.suppress(ConnectionResetError):
        await relay.publish_pending()
    relay.after_publish = None
    await relay.publish_pending()


async def _unpublished(engine: AsyncEngine, topic: str) -> int:
    async with AsyncSession(engine) as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxRecord)
            .where(OutboxRecord.topic == topic, OutboxRecord.published_at.is_(None))
        )
        return int(count or 0)


class TestOutbox:
    async def test_a_change_that_rolls_back_publishes_nothing(
        self, bus: Bus, sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
    ) -> None:
        probe = new_probe_type()

        async def refused_change() -> None:
            async with sessions() as session, session.begin():
                await record_event(session, probe(customer_id="C1", sequence=1))
                raise RuntimeError("change refused")

        with pytest.raises(RuntimeError, match="change refused"):
            await refused_change()
        await _published(sessions, bus, metrics, probe(customer_id="C1", sequence=2))

        consumer = bus.consumer(f"check-{uuid.uuid4().hex[:6]}", [probe.topic])
        await consumer.start()
        received = await drain(consumer, expected=1)
        late = await consumer.poll(max_records=10, timeout=2.0)  # nothing else ever comes
        await consumer.stop()
        assert [json.loads(m.value) for m in received] == [
            {"customer_id": "C1", "sequence": 2, "fail": False}
        ]
        assert late == []

    async def test_relay_dying_between_publish_and_mark_duplicates_but_one_effect(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        await record_in_outbox(sessions, *(probe(customer_id="C7", sequence=i) for i in range(3)))
        relay = _relay(sessions, bus, metrics)
        relay.after_publish = _die
        with pytest.raises(ConnectionResetError):
            await relay.publish_pending()
        assert await _unpublished(engine, probe.topic) == 3  # published, but not marked
        relay.after_publish = None
        assert await relay.publish_pending() == 3  # the restarted relay sends them again
        assert await _unpublished(engine, probe.topic) == 0

        on_topic = await read_topic(bus, probe.topic, expected=6)
        assert len(on_topic) == 6
        assert len(set(ids_of(on_topic))) == 3

        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        async with running(_consumer(bus, sessions, metrics, probe, group)):

            async def all_applied() -> bool:
                return len(await effects(engine, group)) >= 3

            await wait_until(all_applied)
            await asyncio.sleep(1.0)  # give the duplicates time to (not) apply
        applied = await effects(engine, group)
        assert [seq for _, seq, _ in applied] == [0, 1, 2]

    async def test_backlog_metrics_follow_the_outbox(
        self, bus: Bus, sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
    ) -> None:
        probe = new_probe_type()
        await record_in_outbox(sessions, probe(customer_id="C1", sequence=1))
        relay = _relay(sessions, bus, metrics)
        while await relay.publish_pending():
            pass
        assert sample(metrics, "crm_outbox_backlog") == 0
        assert sample(metrics, "crm_events_published_total", topic=probe.topic) == 1

    async def test_one_relay_at_a_time_publishes_a_schemas_outbox(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        await record_in_outbox(sessions, *(probe(customer_id="C3", sequence=i) for i in range(2)))
        relay = _relay(sessions, bus, metrics)
        async with AsyncSession(engine) as other_replica, other_replica.begin():
            # Another replica's relay is in the middle of its round.
            await other_replica.execute(
                select(func.pg_advisory_xact_lock(func.hashtext("outbox:mechanics")))
            )
            assert await relay.publish_pending() == 0
            assert await _unpublished(engine, probe.topic) == 2
        while await relay.publish_pending():
            pass
        assert await _unpublished(engine, probe.topic) == 0
        on_topic = await read_topic(bus, probe.topic, expected=2)
        assert [json.loads(m.value)["sequence"] for m in on_topic] == [0, 1]


class TestInbox:
    async def test_the_same_event_delivered_twice_has_one_effect(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        await bus.ensure_topics([probe.topic])
        message = _probe_message(probe, customer_id="C3", sequence=1)
        await bus.publish([message, message])
        await bus.publish([message])

        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        async with running(_consumer(bus, sessions, metrics, probe, group)):

            async def three_seen() -> bool:
                labels = {"group": group, "topic": probe.topic, "outcome": "duplicate"}
                return sample(metrics, "crm_events_consumed_total", **labels) == 2

            await wait_until(three_seen)
        assert len(await effects(engine, group)) == 1
        assert await correlation_ids(engine, group) == {"test-correlation"}
        applied = sample(
            metrics, "crm_events_consumed_total", group=group, topic=probe.topic, outcome="applied"
        )
        assert applied == 1


class TestDeadLetters:
    async def test_a_handler_that_keeps_failing_sends_the_message_to_the_dlq(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        events = [probe(customer_id="C9", sequence=i, fail=(i == 1)) for i in range(3)]
        await _published(sessions, bus, metrics, *events)

        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        async with running(_consumer(bus, sessions, metrics, probe, group, max_attempts=3)):

            async def next_one_applied() -> bool:
                return [s for _, s, _ in await effects(engine, group)] == [0, 2]

            await wait_until(next_one_applied)

        dead = await read_topic(bus, dead_letter_topic(probe.topic), expected=1)
        headers = dict(dead[0].headers)
        assert headers["dlq_error"].decode() == "RuntimeError: handler refuses event 1"
        assert headers["dlq_original_topic"].decode() == probe.topic
        assert headers["dlq_consumer_group"].decode() == group
        assert EventEnvelope.from_headers(dead[0].headers).type == probe.event_type
        assert json.loads(dead[0].value)["sequence"] == 1
        labels = {"group": group, "topic": probe.topic}
        assert sample(metrics, "crm_events_failed_total", **labels) == 3
        assert sample(metrics, "crm_events_dead_lettered_total", **labels) == 1

    async def test_an_undecodable_message_goes_to_the_dlq_at_once(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        await bus.ensure_topics([probe.topic])
        good = _probe_message(probe, customer_id="C4", sequence=2)
        bad = OutgoingMessage(good.topic, good.key, b'{"customer_id": 42', good.headers)
        await bus.publish([bad, _probe_message(probe, customer_id="C4", sequence=2)])

        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        async with running(_consumer(bus, sessions, metrics, probe, group)):

            async def good_applied() -> bool:
                return len(await effects(engine, group)) == 1

            await wait_until(good_applied)
        dead = await read_topic(bus, dead_letter_topic(probe.topic), expected=1)
        assert dead[0].value == b'{"customer_id": 42'
        assert dict(dead[0].headers)["dlq_error"].startswith(b"ValidationError")


class TestBatchedRuns:
    """With a batch handler a poll's run is one transaction; when it fails, the run is
    handled event by event, so the failing event is isolated and nothing is applied twice."""

    async def test_a_run_joins_partitions_and_keeps_each_keys_order(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        customers = [f"C{c:03d}" for c in range(12)]
        await _published(
            sessions, bus, metrics,
            *(probe(customer_id=c, sequence=i) for i in range(4) for c in customers),
        )  # fmt: skip
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        runs: list[int] = []
        partitions: list[set[int]] = []
        consumer = _batched_consumer(bus, sessions, metrics, probe, group, runs, partitions)
        async with running(consumer):

            async def all_applied() -> bool:
                return len(await effects(engine, group)) == 48

            await wait_until(all_applied)
        # Twelve keys spread over the partitions, and one poll's run handed over whole.
        assert max(len(p) for p in partitions) > 1
        applied = await effects(engine, group)
        for customer in customers:
            assert [s for c, s, _ in applied if c == customer] == [0, 1, 2, 3]
        assert len({event_id for *_, event_id in applied}) == 48

    async def test_a_failing_event_in_a_run_is_dead_lettered_alone(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        events = [probe(customer_id="C7", sequence=i, fail=(i == 4)) for i in range(10)]
        await _published(sessions, bus, metrics, *events)
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        runs: list[int] = []
        consumer = _batched_consumer(bus, sessions, metrics, probe, group, runs)
        async with running(consumer):

            async def rest_applied() -> bool:
                return sorted(s for _, s, _ in await effects(engine, group)) == [
                    0, 1, 2, 3, 5, 6, 7, 8, 9,
                ]  # fmt: skip

            await wait_until(rest_applied)
        assert max(runs) > 1  # the run was tried whole first
        dead = await read_topic(bus, dead_letter_topic(probe.topic), expected=1)
        assert json.loads(dead[0].value)["sequence"] == 4
        # In order, once each: the failed run left nothing behind.
        assert [s for _, s, _ in await effects(engine, group)] == [0, 1, 2, 3, 5, 6, 7, 8, 9]

    async def test_a_run_applies_each_event_once_in_order(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        await _published(
            sessions, bus, metrics, *(probe(customer_id="C8", sequence=i) for i in range(40))
        )
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        runs: list[int] = []
        consumer = _batched_consumer(bus, sessions, metrics, probe, group, runs)
        async with running(consumer):

            async def all_applied() -> bool:
                return len(await effects(engine, group)) == 40

            await wait_until(all_applied)
        assert [s for _, s, _ in await effects(engine, group)] == list(range(40))
        assert max(runs) > 1
        labels = {"group": group, "topic": probe.topic, "outcome": "applied"}
        assert sample(metrics, "crm_events_consumed_total", **labels) == 40

    async def test_an_event_twice_in_one_poll_is_applied_once(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        await record_in_outbox(sessions, *(probe(customer_id="C5", sequence=i) for i in range(3)))
        await _published_twice(sessions, bus, metrics)
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        runs: list[int] = []
        async with running(_batched_consumer(bus, sessions, metrics, probe, group, runs)):

            async def all_applied() -> bool:
                return len(await effects(engine, group)) >= 3

            await wait_until(all_applied)
            await asyncio.sleep(1.0)  # give the copies time to (not) apply
        assert [s for _, s, _ in await effects(engine, group)] == [0, 1, 2]
        assert sum(runs) == 3  # each event handed to the batch handler once


class TestPerCustomerOrder:
    async def test_order_holds_through_partitions_two_members_and_rebalances(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        customers, per_customer = 12, 30
        relay = _relay(sessions, bus, metrics)
        relay_task = asyncio.create_task(relay.run())
        first_metrics, second_metrics = ServiceMetrics("first"), ServiceMetrics("second")
        first = _consumer(bus, sessions, first_metrics, probe, group)
        second = _consumer(bus, sessions, second_metrics, probe, group)
        first_task = asyncio.create_task(first.run())
        try:
            for sequence in range(per_customer):
                await record_in_outbox(
                    sessions,
                    *(probe(customer_id=f"C{c:03d}", sequence=sequence) for c in range(customers)),
                )
                relay.wake()
                if sequence == 8:
                    second_task = asyncio.create_task(second.run())  # a member joins
                if sequence == 20:
                    first.stop()  # a member leaves mid-stream
                    await asyncio.wait_for(first_task, 30)
                await asyncio.sleep(0.05)

            async def all_applied() -> bool:
                return len(await effects(engine, group)) >= customers * per_customer

            await wait_until(all_applied, timeout=120)
        finally:
            for consumer in (first, second):
                consumer.stop()
            relay.stop()
            await asyncio.gather(first_task, second_task, relay_task)

        by_customer: dict[str, list[int]] = defaultdict(list)
        for customer_id, sequence, _ in await effects(engine, group):
            by_customer[customer_id].append(sequence)
        assert len(by_customer) == customers
        assert all(seqs == list(range(per_customer)) for seqs in by_customer.values())
        # Both members really worked: the partitions moved to the second and away from the first.
        labels = {"group": group, "topic": probe.topic, "outcome": "applied"}
        assert sample(first_metrics, "crm_events_consumed_total", **labels) > 0
        assert sample(second_metrics, "crm_events_consumed_total", **labels) > 0


class TestHandOver:
    async def test_a_poll_made_stale_by_a_hand_over_is_read_again_in_order(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        """A hand-over between two polls makes the second stale: its events are not
        applied then, and the consumer goes back to the committed offsets, from where they
        come again, in order. Skipping them would lose them for good (the position had
        already moved past them)."""
        probe = new_probe_type()
        await _published(
            sessions, bus, metrics, *(probe(customer_id="C5", sequence=i) for i in range(40))
        )
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        record = recording_handler(group)
        hand_overs: list[asyncio.Task[None]] = []

        async def hand_over() -> None:
            # What the rebalance listener does: wait for the batch in hand, move the
            # generation on; the member keeps its partitions, so the poll made meanwhile
            # is stale but its events are this member's to apply.
            reading = consumer._consumer
            assert reading is not None
            async with reading.assignment_lock:
                reading.generation += 1  # type: ignore[attr-defined]
                await asyncio.sleep(0.5)

        async def handle(session: AsyncSession, event: ProbeEvent, envelope: EventEnvelope) -> None:
            if not hand_overs:
                hand_overs.append(asyncio.create_task(hand_over()))
            await record(session, event, envelope)  # type: ignore[operator]

        consumer = _consumer(bus, sessions, metrics, probe, group, handler=handle, batch_size=10)
        async with running(consumer):

            async def all_applied() -> bool:
                return len(await effects(engine, group)) == 40

            await wait_until(all_applied)
        await asyncio.gather(*hand_overs)
        assert [s for _, s, _ in await effects(engine, group)] == list(range(40))


def _probe_message(probe: type[ProbeEvent], *, customer_id: str, sequence: int) -> OutgoingMessage:
    record = OutboxRecord(
        event_id=uuid.uuid4(),
        topic=probe.topic,
        message_key=customer_id,
        event_type=probe.event_type,
        source="/crm/mechanics",
        occurred_at=datetime.now(UTC),
        correlation_id="test-correlation",
        payload=probe(customer_id=customer_id, sequence=sequence).model_dump(mode="json"),
    )
    return to_message(record)


class TestSlowConsumer:
    """A consumer slower than its stream falls behind: the lag gauge shows it per partition,
    and it drains to zero once the consumer is fast again, with nothing lost or repeated."""

    async def test_lag_grows_shows_and_drains(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr("shared.consumer.LAG_REFRESH_SECONDS", 0.2)
        probe = new_probe_type()
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        record = recording_handler(group)
        slow = asyncio.Event()
        slow.set()

        async def handle(session: AsyncSession, event: ProbeEvent, envelope: EventEnvelope) -> None:
            if slow.is_set():
                await asyncio.sleep(0.05)
            await record(session, event, envelope)  # type: ignore[operator]

        consumer = _consumer(bus, sessions, metrics, probe, group, handler=handle, batch_size=5)
        total = 300
        events = [probe(customer_id=f"S{i % 12}", sequence=i) for i in range(total)]
        await _published(sessions, bus, metrics, *events)

        def lag() -> float:
            return sum(
                s.value
                for family in metrics.registry.collect()
                if family.name == "crm_consumer_lag"
                for s in family.samples
                if s.labels["group"] == group
            )

        async with running(consumer):

            async def behind() -> bool:
                return lag() > 100

            await wait_until(behind, timeout=30)
            peak = lag()
            slow.clear()

            async def drained() -> bool:
                return len(await effects(engine, group)) == total and lag() == 0

            await wait_until(drained, timeout=60)
        applied = await effects(engine, group)
        report(
            f"\nslow consumer: lag peaked at {peak:.0f} messages, drained to 0; "
            f"applied {len(applied)} of {total}"
        )
        assert sorted(s for _, s, _ in applied) == list(range(total))  # none lost, none twice


class TestLinger:
    """A consumer with a linger gathers a trickle into one run, and reads a backlog without
    waiting."""

    async def test_a_trickle_waits_for_the_linger_and_is_handled_in_one_run(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        probe = new_probe_type()
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        runs: list[int] = []
        consumer = _batched_consumer(bus, sessions, metrics, probe, group, runs, linger_ms=3000)
        async with running(consumer):
            await _published(sessions, bus, metrics, probe(customer_id="T0", sequence=0))

            async def first_applied() -> bool:
                return len(await effects(engine, group)) == 1

            await wait_until(first_applied, timeout=30)
            # One at a time, as a steady flow arrives: each would be a poll of its own.
            for sequence in range(1, 6):
                await _published(sessions, bus, metrics, probe(customer_id="T0", sequence=sequence))

            async def all_applied() -> bool:
                return len(await effects(engine, group)) == 6

            await wait_until(all_applied, timeout=30)
        # The first came alone (a poll of one goes the per-event way); the five that followed
        # within the linger were gathered into one run.
        assert runs == [5]
        assert [s for _, s, _ in await effects(engine, group)] == list(range(6))

    async def test_a_backlog_is_read_without_waiting_for_the_linger(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
    ) -> None:
        # The local bus answers a poll with everything up to the cap, so a full poll is
        # certain; aiokafka's answer depends on what its fetcher holds at that moment.
        bus = make_bus("local", engine=engine, kafka_bootstrap=None)
        await bus.start()
        probe = new_probe_type()
        await _published(
            sessions, bus, metrics, *(probe(customer_id="B0", sequence=i) for i in range(35))
        )
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        runs: list[int] = []
        consumer = _batched_consumer(
            bus, sessions, metrics, probe, group, runs, batch_size=10, linger_ms=600_000
        )
        try:
            async with running(consumer):

                async def all_applied() -> bool:
                    return len(await effects(engine, group)) == 35

                await wait_until(all_applied, timeout=30)
        finally:
            await bus.stop()
        # Three full polls one after another, then the rest: none of them waited ten minutes.
        assert runs == [10, 10, 10, 5]
        assert [s for _, s, _ in await effects(engine, group)] == list(range(35))


class TestLagReading:
    """Reading the lag asks the bus for the partitions' ends, a round trip that can be slow;
    consuming never waits for it."""

    async def test_events_are_applied_while_a_lag_reading_hangs(
        self,
        bus: Bus,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ServiceMetrics,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        reading, answer = asyncio.Event(), asyncio.Event()
        make_consumer = bus.consumer

        def consumer_whose_lag_hangs(
            group: str, topics: list[str], *, linger_ms: int = 0
        ) -> object:
            made = make_consumer(group, topics, linger_ms=linger_ms)
            read_lag = made.lag

            async def hanging_lag() -> object:
                reading.set()
                await answer.wait()  # the broker does not answer until the test ends
                return await read_lag()

            monkeypatch.setattr(made, "lag", hanging_lag)
            return made

        monkeypatch.setattr(bus, "consumer", consumer_whose_lag_hangs)
        probe = new_probe_type()
        group = f"crm-test-{uuid.uuid4().hex[:6]}"
        consumer = _consumer(bus, sessions, metrics, probe, group)
        async with running(consumer):
            await asyncio.wait_for(reading.wait(), 30)
            await _published(
                sessions,
                bus,
                metrics,
                *(probe(customer_id=f"L{i % 3}", sequence=i) for i in range(20)),
            )

            async def applied() -> bool:
                return len(await effects(engine, group)) == 20

            await wait_until(applied, timeout=30)
            assert not answer.is_set()  # the reading was still hanging all along
            answer.set()
