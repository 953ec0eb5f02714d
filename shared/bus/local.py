"""The local backend: a durable, partitioned log in PostgreSQL for the embedded run.

It keeps Kafka's semantics so that service code and the event consumer run unchanged: a topic
has partitions; a message's key picks its partition, so one customer's events stay in order;
each partition has increasing offsets; consumer groups commit offsets, and a member that
restarts goes on from its group's committed offsets (at least once). Because the log lives in
the database and is fed by the outbox relay, nothing is lost when the process stops.

Why not Kafka itself: the embedded run must start with nothing installed but Python. Members of
a group are divided among the partitions within one process; several processes on one local
log are not supported (use Kafka for that).

Several processes may share the log when each group lives in one of them: a service's API in
one process and its relay and consumer in another (``crm serve --part``), or one process per
service. An append notifies ``crm_bus`` from its own transaction, and every consumer listens
there, so that a consumer is woken by an append whichever process made it.
"""

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.bulk import copy_rows_on
from shared.bus import BusUnavailableError, OutgoingMessage, ReceivedMessage, TopicPartition
from shared.bus.local_log import (
    APPEND_FROM_OUTBOX,
    APPENDED_CHANNEL,
    LOCK_HEADS,
    LOG_COLUMNS,
    SCHEMA,
    STORAGE_DDL,
    OutboxRow,
    decode_headers,
    encode_headers,
    partition_for,
)
from shared.notify import NotificationListener, listener_dsn
from shared.waiting import wait_for_event

_NOTIFY_APPENDED = text(f"SELECT pg_notify('{APPENDED_CHANNEL}', '')")

# A poll's messages: up to the limit in all, taken from the assigned partitions in turns (the
# first message of each, then the second...), so a partition with a backlog fills the poll
# without holding back the others. Dividing the limit evenly among the partitions made a
# consumer of five topics read three messages a partition, idle ones included: polls of a
# dozen events, each its own transaction.
_FETCH = text(
    'SELECT topic, partition, "offset", key, value, headers FROM ('
    ' SELECT l.*, row_number() OVER (PARTITION BY l.topic, l.partition ORDER BY l."offset")'
    " AS turn FROM unnest(CAST(:topics AS text[]), CAST(:partitions AS int[]),"
    " CAST(:positions AS bigint[])) AS p(topic, partition, position)"
    ' CROSS JOIN LATERAL (SELECT topic, partition, "offset", key, value, headers'
    " FROM crm_bus.log WHERE topic = p.topic AND partition = p.partition"
    ' AND "offset" >= p.position ORDER BY "offset" LIMIT :limit) AS l'
    " ORDER BY turn, l.topic, l.partition LIMIT :limit"
    ') AS polled ORDER BY topic, partition, "offset"'
)


class _Wakeup:
    """Tells waiting consumers of this process that something was appended."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()

    def notify(self) -> None:
        for waiter in self._waiters:
            waiter.set()

    async def wait(self, timeout: float) -> None:
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            await wait_for_event(event, timeout)
        finally:
            self._waiters.discard(event)


# Shared by every LocalBus of the process: the four embedded services each have their own bus
# object, and a message one of them appends must wake the others' consumers at once.
_WAKEUP = _Wakeup()
_GROUPS: dict[str, list["LocalBusConsumer"]] = defaultdict(list)


class LocalBus:
    def __init__(
        self, engine: AsyncEngine, *, partitions: int, probe_engine: AsyncEngine | None = None
    ) -> None:
        """``probe_engine``: what :meth:`ping` connects with, so that readiness does not wait
        on a pool busy with requests (see ``shared.db.create_probe_engine``)."""
        self._engine = engine
        self._probe_engine = probe_engine or engine
        self._partitions = partitions
        self._round_robin = 0

    async def start(self) -> None:
        try:
            async with self._engine.begin() as conn:
                # Two services starting at once must not race on CREATE TABLE IF NOT EXISTS.
                await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('crm_bus'))"))
                for statement in STORAGE_DDL:
                    await conn.execute(text(statement))
        except (DBAPIError, OSError) as error:
            raise BusUnavailableError(f"local bus storage: {error}") from error

    async def stop(self) -> None:
        return None

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        rows = [{"t": t, "p": p} for t in topics for p in range(self._partitions)]
        if not rows:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    f"INSERT INTO {SCHEMA}.partition_heads (topic, partition) VALUES (:t, :p) "  # nosec B608
                    "ON CONFLICT DO NOTHING"
                ),
                rows,
            )

    async def partitions_of(self, conn: AsyncConnection, topic: str) -> int:
        result = await conn.execute(
            text(f"SELECT count(*) FROM {SCHEMA}.partition_heads WHERE topic = :t"),  # nosec B608
            {"t": topic},
        )
        return int(result.scalar_one())

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        if not messages:
            return
        try:
            async with self._engine.begin() as conn:
                await self._append(conn, messages)
        except (DBAPIError, OSError) as error:
            raise BusUnavailableError(f"local bus append: {error}") from error
        _WAKEUP.notify()

    async def _append(self, conn: AsyncConnection, messages: Sequence[OutgoingMessage]) -> None:
        partition_counts: dict[str, int] = {}
        by_partition: dict[TopicPartition, list[OutgoingMessage]] = defaultdict(list)
        for message in messages:
            if message.topic not in partition_counts:
                count = await self.partitions_of(conn, message.topic)
                if count == 0:
                    raise BusUnavailableError(f"unknown topic {message.topic}")
                partition_counts[message.topic] = count
            self._round_robin += 1
            partition = partition_for(
                message.key, partition_counts[message.topic], fallback=self._round_robin
            )
            by_partition[(message.topic, partition)].append(message)
        # Lock heads in a fixed order so that concurrent appends cannot deadlock.
        rows: list[tuple[str, int, int, bytes | None, bytes, str]] = []
        for (topic, partition), batch in sorted(by_partition.items()):
            result = await conn.execute(
                text(
                    f"UPDATE {SCHEMA}.partition_heads SET next_offset = next_offset + :n "  # nosec B608
                    "WHERE topic = :t AND partition = :p RETURNING next_offset"
                ),
                {"n": len(batch), "t": topic, "p": partition},
            )
            first = int(result.scalar_one()) - len(batch)
            rows.extend(
                (topic, partition, first + i, m.key, m.value, encode_headers(m.headers))
                for i, m in enumerate(batch)
            )
        # One COPY for the whole batch: an INSERT per message was a fair part of the relay's
        # time on the embedded default (bench.outbox_relay).
        await copy_rows_on(conn, "log", LOG_COLUMNS, rows, schema=SCHEMA)
        await conn.execute(_NOTIFY_APPENDED)

    def appends_from(self, bind: object) -> bool:
        # The same engine: the same database and search path, so the same outbox.
        return bind is self._engine

    async def append_outbox_rows(
        self, rows: Sequence[OutboxRow], traceparents: Sequence[str | None]
    ) -> None:
        """Append committed outbox rows with one ``INSERT … SELECT`` (only their keys pass
        through Python: a key's partition is its CRC-32, which PostgreSQL lacks).
        ``traceparents``: what each message carries (the relay's producer spans')."""
        if not rows:
            return
        try:
            async with self._engine.begin() as conn:
                topics = sorted({row.topic for row in rows})
                locked = await conn.execute(LOCK_HEADS, {"topics": topics})
                counts = {row.topic: int(row.partitions) for row in locked}
                if len(counts) < len(topics):
                    raise BusUnavailableError(f"unknown topic among {topics}")
                await conn.execute(
                    APPEND_FROM_OUTBOX,
                    {
                        "seqs": [row.seq for row in rows],
                        "partitions": [
                            partition_for(row.message_key.encode(), counts[row.topic])
                            for row in rows
                        ],
                        "traceparents": list(traceparents),
                    },
                )
        except (DBAPIError, OSError) as error:
            raise BusUnavailableError(f"local bus append: {error}") from error
        _WAKEUP.notify()

    def consumer(
        self, group: str, topics: Sequence[str], *, linger_ms: int = 0
    ) -> "LocalBusConsumer":
        # A lingering consumer needs nothing of this bus: a fetch reads everything appended.
        return LocalBusConsumer(self._engine, group=group, topics=topics)

    async def ping(self) -> None:
        try:
            async with self._probe_engine.connect() as conn:
                await conn.execute(text(f"SELECT 1 FROM {SCHEMA}.partition_heads LIMIT 1"))  # nosec B608
        except (DBAPIError, OSError) as error:
            raise BusUnavailableError(f"local bus: {error}") from error


class LocalBusConsumer:
    def __init__(self, engine: AsyncEngine, *, group: str, topics: Sequence[str]) -> None:
        self.group = group
        self.generation = 0
        self.assignment_lock = asyncio.Lock()
        self._engine = engine
        self._topics = sorted(set(topics))
        self._positions: dict[TopicPartition, int] = {}
        self._positions_generation = -1
        # Appends made by other processes (a relay in a worker of its own) wake it too.
        self.listener = NotificationListener(
            listener_dsn(engine),
            APPENDED_CHANNEL,
            _WAKEUP.notify,
            application_name=f"crm-bus-{group}",
        )
        self._listening: asyncio.Task[None] | None = None

    async def start(self) -> None:
        members = _GROUPS[self.group]
        await _rebalance(members, joining=self)
        if self._listening is None:
            self._listening = asyncio.create_task(
                self.listener.run(), name=f"local-bus-listener-{self.group}"
            )

    async def stop(self) -> None:
        members = _GROUPS[self.group]
        if self in members:
            async with self.assignment_lock:
                members.remove(self)
            await _rebalance(members, joining=None)
        if self._listening is not None:
            self.listener.stop()
            await self._listening
            self._listening = None

    async def _all_partitions(self, conn: AsyncConnection) -> list[TopicPartition]:
        result = await conn.execute(
            text(
                f"SELECT topic, partition FROM {SCHEMA}.partition_heads "  # nosec B608
                "WHERE topic = ANY(:topics) ORDER BY topic, partition"
            ),
            {"topics": self._topics},
        )
        return [(row.topic, row.partition) for row in result]

    async def _assignment(self, conn: AsyncConnection) -> list[TopicPartition]:
        members = _GROUPS[self.group]
        if self not in members:
            return []
        index, count = members.index(self), len(members)
        return [tp for i, tp in enumerate(await self._all_partitions(conn)) if i % count == index]

    async def poll(self, *, max_records: int, timeout: float) -> list[ReceivedMessage]:
        messages = await self._fetch(max_records)
        if messages:
            return messages
        await _WAKEUP.wait(timeout)
        return await self._fetch(max_records)

    async def _fetch(self, max_records: int) -> list[ReceivedMessage]:
        generation = self.generation
        try:
            async with self._engine.connect() as conn:
                assigned = await self._assignment(conn)
                if self._positions_generation != generation:
                    self._positions = await self._committed(conn, assigned)
                    self._positions_generation = generation
                if not assigned:
                    return []
                result = await conn.execute(
                    _FETCH,
                    {
                        "topics": [t for t, _ in assigned],
                        "partitions": [p for _, p in assigned],
                        "positions": [self._positions.get(tp, 0) for tp in assigned],
                        "limit": max_records,
                    },
                )
                rows = result.all()
        except (DBAPIError, OSError) as error:
            raise BusUnavailableError(f"local bus fetch: {error}") from error
        messages = [
            ReceivedMessage(
                topic=row.topic,
                partition=row.partition,
                offset=row.offset,
                key=row.key,
                value=row.value,
                headers=decode_headers(row.headers),
                generation=generation,
            )
            for row in rows
        ]
        for message in messages:
            self._positions[(message.topic, message.partition)] = message.offset + 1
        return messages

    async def _committed(
        self, conn: AsyncConnection, assigned: list[TopicPartition]
    ) -> dict[TopicPartition, int]:
        result = await conn.execute(
            text(
                f"SELECT topic, partition, next_offset FROM {SCHEMA}.consumer_offsets "  # nosec B608
                "WHERE group_id = :g"
            ),
            {"g": self.group},
        )
        committed = {(row.topic, row.partition): row.next_offset for row in result}
        return {tp: committed.get(tp, 0) for tp in assigned}

    def is_current(self, generation: int) -> bool:
        return generation == self.generation

    async def rewind(self) -> None:
        self._positions_generation = -1  # the next fetch reloads the committed offsets

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    text(
                        f"INSERT INTO {SCHEMA}.consumer_offsets "  # nosec B608
                        "(group_id, topic, partition, next_offset) VALUES (:g, :t, :p, :o) "
                        "ON CONFLICT (group_id, topic, partition) "
                        "DO UPDATE SET next_offset = EXCLUDED.next_offset"
                    ),
                    [
                        {"g": self.group, "t": t, "p": p, "o": o}
                        for (t, p), o in sorted(offsets.items())
                    ],
                )
        except (DBAPIError, OSError) as error:
            raise BusUnavailableError(f"local bus commit: {error}") from error

    async def lag(self) -> dict[TopicPartition, int]:
        async with self._engine.connect() as conn:
            assigned = await self._assignment(conn)
            committed = await self._committed(conn, assigned)
            result = await conn.execute(
                text(
                    f"SELECT topic, partition, next_offset FROM {SCHEMA}.partition_heads "  # nosec B608
                    "WHERE topic = ANY(:topics)"
                ),
                {"topics": self._topics},
            )
            heads = {(row.topic, row.partition): row.next_offset for row in result}
        return {tp: max(heads.get(tp, 0) - committed[tp], 0) for tp in assigned}


async def _rebalance(members: list[LocalBusConsumer], *, joining: LocalBusConsumer | None) -> None:
    # Like a Kafka rebalance: each current member finishes its batch in hand (its lock), then
    # its generation moves on, so batches fetched under the old assignment are dropped.
    for member in list(members):
        async with member.assignment_lock:
            member.generation += 1
    if joining is not None and joining not in members:
        members.append(joining)
        joining.generation += 1
    _WAKEUP.notify()
