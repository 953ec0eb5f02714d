"""The contract both bus backends keep: the same tests against ``local`` and ``kafka``."""

import asyncio
import uuid
from collections import defaultdict

from shared.bus import Bus, BusConsumer, OutgoingMessage, ReceivedMessage
from tests.integration.mechanics import PARTITIONS, drain, read_topic


def _topic() -> str:
    return f"crm.contract.{uuid.uuid4().hex[:10]}"


def _messages(topic: str, customers: int, per_customer: int) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(
            topic=topic,
            key=f"C{c:04d}".encode(),
            value=f"{i}".encode(),
            headers=(("ce_id", f"{c}-{i}".encode()), ("x-note", "测试".encode())),
        )
        for i in range(per_customer)
        for c in range(customers)
    ]


async def _fetch_uncommitted(consumer: BusConsumer, count: int) -> list[ReceivedMessage]:
    """Poll until ``count`` messages arrived, committing none of them."""
    fetched: list[ReceivedMessage] = []
    async with asyncio.timeout(30):
        while len(fetched) < count:
            fetched += await consumer.poll(max_records=100, timeout=0.5)
    return fetched


class TestPublishAndConsume:
    async def test_messages_arrive_with_key_value_and_headers(self, bus: Bus) -> None:
        topic = _topic()
        await bus.ensure_topics([topic])
        sent = _messages(topic, customers=3, per_customer=2)
        await bus.publish(sent)

        received = await read_topic(bus, topic, expected=len(sent))

        assert len(received) == len(sent)
        got = {(m.key, m.value, m.headers) for m in received}
        assert got == {(m.key, m.value, m.headers) for m in sent}

    async def test_one_key_stays_on_one_partition_in_order(self, bus: Bus) -> None:
        topic = _topic()
        await bus.ensure_topics([topic])
        for batch in range(3):  # several publishes: order must hold across them too
            await bus.publish(
                [
                    OutgoingMessage(topic, f"C{c}".encode(), f"{batch * 10 + i}".encode())
                    for i in range(10)
                    for c in range(8)
                ]
            )

        received = await read_topic(bus, topic, expected=240)

        partitions: dict[bytes | None, set[int]] = defaultdict(set)
        values: dict[bytes | None, list[int]] = defaultdict(list)
        for message in sorted(received, key=lambda m: (m.partition, m.offset)):
            partitions[message.key].add(message.partition)
            values[message.key].append(int(message.value))
        assert all(len(p) == 1 for p in partitions.values())
        assert all(v == list(range(30)) for v in values.values())
        assert len({p for ps in partitions.values() for p in ps}) > 1  # keys spread out


class TestPolls:
    async def test_one_partitions_backlog_fills_a_poll_of_a_member_of_many_partitions(
        self, bus: Bus
    ) -> None:
        """A member of five topics (as the customer service is) with a backlog on one
        partition gets polls of up to the limit from it, not the limit shared out among
        partitions that hold nothing."""
        topics = [_topic() for _ in range(5)]
        await bus.ensure_topics(topics)
        await bus.publish(_messages(topics[0], customers=1, per_customer=60))
        consumer = bus.consumer(f"group-{uuid.uuid4().hex[:6]}", topics)
        await consumer.start()
        sizes: list[int] = []
        values: list[int] = []
        async with asyncio.timeout(30):
            while len(values) < 60:
                polled = await consumer.poll(max_records=20, timeout=0.5)
                if polled:
                    sizes.append(len(polled))
                    values += [int(m.value) for m in polled]
        await consumer.stop()
        assert values == list(range(60))
        assert max(sizes) == 20


class TestConsumerGroups:
    async def test_uncommitted_messages_are_delivered_again(self, bus: Bus) -> None:
        topic, group = _topic(), f"group-{uuid.uuid4().hex[:6]}"
        await bus.ensure_topics([topic])
        await bus.publish(_messages(topic, customers=1, per_customer=6))

        first = bus.consumer(group, [topic])
        await first.start()
        received = await _fetch_uncommitted(first, 6)
        # Commit only the first four: the member dies before committing the rest.
        await first.commit({(topic, received[0].partition): received[3].offset + 1})
        await first.stop()

        second = bus.consumer(group, [topic])
        await second.start()
        again = await drain(second, expected=2)
        await second.stop()

        assert [m.value for m in again] == [b"4", b"5"]

    async def test_rewind_reads_again_from_the_committed_offset(self, bus: Bus) -> None:
        topic, group = _topic(), f"group-{uuid.uuid4().hex[:6]}"
        await bus.ensure_topics([topic])
        await bus.publish(_messages(topic, customers=1, per_customer=3))
        consumer = bus.consumer(group, [topic])
        await consumer.start()
        fetched = await _fetch_uncommitted(consumer, 3)
        await consumer.commit({(topic, fetched[0].partition): fetched[0].offset + 1})

        await consumer.rewind()
        again = await drain(consumer, expected=2)
        await consumer.stop()

        assert [m.value for m in again] == [b"1", b"2"]

    async def test_rewind_with_nothing_committed_reads_from_the_start(self, bus: Bus) -> None:
        # A partition that changed hands before its first commit: what was fetched and dropped
        # must come back, not be skipped.
        topic, group = _topic(), f"group-{uuid.uuid4().hex[:6]}"
        await bus.ensure_topics([topic])
        await bus.publish(_messages(topic, customers=1, per_customer=3))
        consumer = bus.consumer(group, [topic])
        await consumer.start()
        await _fetch_uncommitted(consumer, 3)

        await consumer.rewind()
        again = await drain(consumer, expected=3)
        await consumer.stop()

        assert [m.value for m in again] == [b"0", b"1", b"2"]

    async def test_two_members_share_the_partitions(self, bus: Bus) -> None:
        topic, group = _topic(), f"group-{uuid.uuid4().hex[:6]}"
        await bus.ensure_topics([topic])
        a, b = bus.consumer(group, [topic]), bus.consumer(group, [topic])
        await asyncio.gather(a.start(), b.start())
        await bus.publish(_messages(topic, customers=40, per_customer=1))

        seen: dict[str, set[int]] = {"a": set(), "b": set()}
        count = 0
        async with asyncio.timeout(60):
            while count < 40:
                for name, member in (("a", a), ("b", b)):
                    batch = await member.poll(max_records=100, timeout=0.3)
                    await member.commit({(m.topic, m.partition): m.offset + 1 for m in batch})
                    seen[name] |= {m.partition for m in batch}
                    count += len(batch)
        await asyncio.gather(a.stop(), b.stop())

        assert count == 40
        assert seen["a"]
        assert seen["b"]
        assert not seen["a"] & seen["b"]
        assert len(seen["a"] | seen["b"]) <= PARTITIONS

    async def test_lag_counts_what_the_group_has_not_committed(self, bus: Bus) -> None:
        topic, group = _topic(), f"group-{uuid.uuid4().hex[:6]}"
        await bus.ensure_topics([topic])
        await bus.publish(_messages(topic, customers=1, per_customer=5))
        consumer = bus.consumer(group, [topic])
        await consumer.start()
        batch: list[ReceivedMessage] = []
        async with asyncio.timeout(30):
            while len(batch) < 5:
                batch += await consumer.poll(max_records=100, timeout=0.5)
        await consumer.commit({(topic, batch[0].partition): batch[1].offset + 1})

        lag = await consumer.lag()
        await consumer.stop()

        assert lag[(topic, batch[0].partition)] == 3
        assert sum(lag.values()) == 3

    async def test_ping_answers_when_the_bus_is_up(self, bus: Bus) -> None:
        await bus.ping()
