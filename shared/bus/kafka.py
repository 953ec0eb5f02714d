"""The Kafka backend (aiokafka).

Producer: idempotent with ``acks=all``, so a retried send neither duplicates nor reorders a
partition. Consumer: a member of a consumer group, auto-commit off; the event consumer commits
offsets itself after the handler's transaction has committed.

Rebalances: aiokafka runs the rebalance listener on its own task. ``getmany`` is called outside
the assignment lock and handling happens inside it; the listener waits for the lock, so a
partition is only handed over once the batch in hand is handled and committed (the pattern
recommended in aiokafka issue #335). Messages fetched before the hand-over carry the old
generation and are dropped unhandled, and the member rewinds to the committed offsets: the
partitions' new owner, which may be this member again, reads them from there.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka import TopicPartition as KafkaTopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    IllegalStateError,
    KafkaError,
    TopicAlreadyExistsError,
)

from shared.bus import BusUnavailableError, OutgoingMessage, ReceivedMessage, TopicPartition
from shared.bus.kafka_security import (
    PLAINTEXT,
    KafkaSecurity,
    connection_refusal,
    kafka_client_options,
)
from shared.logging import get_logger
from shared.settings import SharedSettings

log = get_logger(__name__)


async def _unavailable(
    what: str,
    bootstrap_servers: str,
    security: KafkaSecurity,
    error: KafkaError,
    *,
    timeout_ms: int,
) -> BusUnavailableError:
    # A refused login reads as "unable to bootstrap" (aiokafka logs the reason and moves on):
    # one more connection, made here, tells the operator why.
    reason = await connection_refusal(bootstrap_servers, security, timeout_ms=timeout_ms)
    return BusUnavailableError(
        f"{what}: Kafka at {bootstrap_servers} ({security.describe()}): {reason or error}"
    )


class KafkaBus:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str,
        partitions: int,
        replication_factor: int,
        request_timeout_seconds: float = 10.0,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._security = security
        self._client_id = client_id
        self._partitions = partitions
        self._replication_factor = replication_factor
        self._timeout_ms = int(request_timeout_seconds * 1000)
        self._producer: AIOKafkaProducer | None = None
        self._known_topics: set[str] = set()

    @classmethod
    def from_settings(cls, settings: SharedSettings) -> "KafkaBus":
        return cls(
            settings.kafka_bootstrap_servers,
            client_id=f"crm-{settings.service_name}",
            partitions=settings.kafka_topic_partitions,
            replication_factor=settings.kafka_replication_factor,
            security=KafkaSecurity.of(settings),
        )

    def _options(self) -> dict[str, Any]:
        return kafka_client_options(self._bootstrap, self._security)

    async def start(self) -> None:
        await self._started_producer()

    async def _started_producer(self) -> AIOKafkaProducer:
        # Started on first need too: a service that came up while Kafka was down publishes
        # as soon as it is back, without a restart.
        if self._producer is not None:
            return self._producer
        producer = AIOKafkaProducer(
            **self._options(),
            client_id=self._client_id,
            enable_idempotence=True,
            acks="all",
            request_timeout_ms=self._timeout_ms,
        )
        try:
            await producer.start()
        except KafkaError as error:
            await producer.stop()
            raise await _unavailable(
                "producer", self._bootstrap, self._security, error, timeout_ms=self._timeout_ms
            ) from error
        self._producer = producer
        return producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    @asynccontextmanager
    async def _admin(self) -> AsyncIterator[AIOKafkaAdminClient]:
        admin = AIOKafkaAdminClient(
            **self._options(),
            client_id=f"{self._client_id}-admin",
            request_timeout_ms=self._timeout_ms,
        )
        await admin.start()
        try:
            yield admin
        finally:
            await admin.close()

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        wanted = set(topics) - self._known_topics
        if not wanted:
            return
        try:
            async with self._admin() as admin:
                existing = set(await admin.list_topics())
                missing = sorted(wanted - existing)
                if missing:
                    new = [NewTopic(t, self._partitions, self._replication_factor) for t in missing]
                    # Another replica may have created one first.
                    with contextlib.suppress(TopicAlreadyExistsError):
                        await admin.create_topics(new)
                    log.info("kafka.topics_created", topics=missing)
        except KafkaError as error:
            raise await _unavailable(
                "cannot create topics",
                self._bootstrap,
                self._security,
                error,
                timeout_ms=self._timeout_ms,
            ) from error
        self._known_topics |= wanted

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        producer = await self._started_producer()
        try:
            # Queue the whole batch before waiting, so it travels in few requests; the
            # idempotent producer keeps per-partition order across its own retries.
            deliveries = [
                await producer.send(m.topic, value=m.value, key=m.key, headers=list(m.headers))
                for m in messages
            ]
            await asyncio.gather(*deliveries)
        except KafkaError as error:
            # A batch that timed out while the broker was away leaves the idempotent
            # producer's sequence numbers ahead of the broker's, and aiokafka then answers
            # OutOfOrderSequenceNumber to every later send, for as long as the process lives.
            # The next round starts a new producer (a new producer id): what it sends again is
            # delivered at least once, which consumers' inboxes absorb.
            await self._discard_producer()
            raise BusUnavailableError(f"publish failed: {error}") from error

    async def _discard_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), self._timeout_ms / 1000)

    def consumer(
        self, group: str, topics: Sequence[str], *, linger_ms: int = 0
    ) -> "KafkaBusConsumer":
        return KafkaBusConsumer(
            self._bootstrap,
            security=self._security,
            group=group,
            topics=topics,
            client_id=self._client_id,
            request_timeout_ms=self._timeout_ms,
            linger_ms=linger_ms,
        )

    async def ping(self) -> None:
        try:
            async with self._admin() as admin:
                await asyncio.wait_for(admin.describe_cluster(), self._timeout_ms / 1000)
        except (KafkaError, TimeoutError, OSError) as error:
            raise BusUnavailableError(f"Kafka at {self._bootstrap}: {error}") from error


class _HandOverListener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: "KafkaBusConsumer") -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: list[KafkaTopicPartition]) -> None:
        # Wait for the batch in hand to be handled and committed before letting go.
        async with self._owner.assignment_lock:
            await self._owner.settle_commit()
            self._owner.generation += 1

    async def on_partitions_assigned(self, assigned: list[KafkaTopicPartition]) -> None:
        self._owner.generation += 1
        self._owner.forget_committed()
        log.info(
            "kafka.partitions_assigned",
            group=self._owner.group,
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned),
        )


def _held_fetches(linger_ms: int) -> dict[str, int]:
    """A lingering consumer (see ``EventConsumer``'s linger) asks the broker to hold each fetch
    for the linger: aiokafka keeps one fetched answer per partition ahead, so without this a
    wait would find only what had arrived when the last answer left the broker. A backlog
    fills the minimum at once and is not held."""
    if not linger_ms:
        return {}
    return {"fetch_max_wait_ms": linger_ms, "fetch_min_bytes": 1024 * 1024}


class KafkaBusConsumer:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        security: KafkaSecurity,
        group: str,
        topics: Sequence[str],
        client_id: str,
        request_timeout_ms: int,
        linger_ms: int = 0,
    ) -> None:
        self.group = group
        self.generation = 0
        self.assignment_lock = asyncio.Lock()
        self._topics = list(topics)
        self._bootstrap = bootstrap_servers
        self._security = security
        self._timeout_ms = request_timeout_ms
        self._consumer = AIOKafkaConsumer(
            **kafka_client_options(bootstrap_servers, security),
            group_id=group,
            client_id=f"{client_id}-{group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            request_timeout_ms=request_timeout_ms,
            **_held_fetches(linger_ms),
        )
        self._committed: dict[TopicPartition, int] = {}
        self._commit_in_flight: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer.subscribe(self._topics, listener=_HandOverListener(self))
        try:
            await self._consumer.start()
        except KafkaError as error:
            raise await _unavailable(
                f"consumer {self.group}",
                self._bootstrap,
                self._security,
                error,
                timeout_ms=self._timeout_ms,
            ) from error

    async def stop(self) -> None:
        await self.settle_commit()
        await self._consumer.stop()

    async def poll(self, *, max_records: int, timeout: float) -> list[ReceivedMessage]:
        generation = self.generation
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout * 1000), max_records=max_records
        )
        return [
            ReceivedMessage(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value,
                headers=tuple(record.headers),
                generation=generation,
            )
            for records in batches.values()
            for record in records
        ]

    def is_current(self, generation: int) -> bool:
        return generation == self.generation

    async def rewind(self) -> None:
        # Not aiokafka's seek_to_committed: it leaves a partition with no committed offset (or
        # one at 0) where it is, so what was fetched there and dropped would never come back.
        await self.settle_commit()
        try:
            for tp in self._consumer.assignment():
                committed = await self._consumer.committed(tp)
                if committed is None:
                    await self._consumer.seek_to_beginning(tp)  # as auto_offset_reset=earliest
                else:
                    self._consumer.seek(tp, committed)
        except (KafkaError, IllegalStateError) as error:
            raise BusUnavailableError(f"consumer {self.group}: {error}") from error

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Send the offsets and return without waiting for the coordinator's answer, so that
        the next poll overlaps it: at a steady rate that round trip was a good part of each
        event's time to its effect. The commit is settled (its answer awaited) before the next
        one, before partitions are handed over, and before a rewind, a lag reading or stop;
        a commit that never lands only means those events are delivered again, which the
        inbox absorbs."""
        await self.settle_commit()
        if offsets:
            self._commit_in_flight = asyncio.create_task(self._commit(offsets))

    async def settle_commit(self) -> None:
        # Several may wait on one commit (the consuming loop, the lag reading, a rebalance): the
        # commit stays in flight until it is done, so the next one never starts beside it.
        task = self._commit_in_flight
        if task is None:
            return
        try:
            await task
        finally:
            if self._commit_in_flight is task:
                self._commit_in_flight = None

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._consumer.commit(
                {KafkaTopicPartition(t, p): offset for (t, p), offset in offsets.items()}
            )
        except KafkaError as error:
            # The group moved on (or the coordinator is away): whoever owns these partitions
            # reads them again from the last committed offset, and the inbox makes the repeat
            # harmless.
            log.warning("kafka.commit_failed", group=self.group, error=str(error))
            return
        self._committed.update(offsets)

    def forget_committed(self) -> None:
        # Another member may have moved these partitions on while they were not ours.
        self._committed.clear()

    async def lag(self) -> dict[TopicPartition, int]:
        await self.settle_commit()
        assigned = list(self._consumer.assignment())
        if not assigned:
            return {}
        ends = await self._consumer.end_offsets(assigned)
        lag: dict[TopicPartition, int] = {}
        for tp in assigned:
            key = (tp.topic, tp.partition)
            committed = self._committed.get(key)
            if committed is None:
                committed = await self._consumer.committed(tp) or 0
                self._committed[key] = committed
            lag[key] = max(ends[tp] - committed, 0)
        return lag
