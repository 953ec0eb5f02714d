"""Outbox relay throughput: batched rounds against the one-event-per-round baseline.

Both run in the same process, on the same embedded PostgreSQL and the same bus, one after the
other for each repetition, so the machine's noise hits both alike; the ratio is what to read.

On the local bus it also compares two ways of appending a round to the log, alternately: the
round's messages built in Python and COPied into the log (``Bus.publish``), and one
``INSERT … SELECT`` from the outbox (the log is in the same database), which builds the
messages' headers in SQL (``LocalBus.append_outbox_rows``).

It then drains a backlog with rounds of each size in ``--round-sizes``, alternating, and
prints each size's rate against the first's.

    .venv/bin/python -m bench.outbox_relay [--events 2000] [--repeat 3] [--bus local|kafka]
        [--round-sizes 200 1000 2000]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import DomainEvent
from crm.infra.kafka import KafkaBroker, free_port
from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import MIGRATIONS
from shared.bus import Bus, OutgoingMessage
from shared.bus.local import LocalBus, LocalBusConsumer
from shared.bus.local_log import decode_headers
from shared.db import create_engine, create_sessionmaker
from shared.envelope import EventEnvelope
from shared.metrics import ServiceMetrics
from shared.migrations import upgrade
from shared.outbox import EVENT_SOURCE, record_events
from shared.outbox_relay import OutboxRelay
from shared.runtime import create_bus
from shared.settings import BusBackend, SharedSettings

BATCH = SharedSettings.model_fields["relay_batch_size"].default


class BenchSettings(SharedSettings):
    service_name: ClassVar[str] = "bench"


class BalanceObserved(DomainEvent):
    event_type = "crm.bench.balance_observed.v1"
    topic = "crm.bench.v1"
    customer_id: str
    balance: str


async def _fill(sessions: async_sessionmaker[AsyncSession], events: int) -> None:
    observed = [
        BalanceObserved(customer_id=f"C{i % 500:05d}", balance=f"{i}.00") for i in range(events)
    ]
    async with sessions() as session, session.begin():
        await record_events(session, observed)


async def _drain_seconds(
    sessions: async_sessionmaker[AsyncSession], bus: Bus, batch_size: int, events: int
) -> float:
    await _fill(sessions, events)
    relay = OutboxRelay(
        sessions,
        bus,
        schema="bench",
        metrics=ServiceMetrics(f"bench-{uuid.uuid4().hex[:6]}"),
        batch_size=batch_size,
        poll_interval=0.1,
    )
    started = time.perf_counter()
    published = 0
    while published < events:
        published += await relay.publish_pending()
    return time.perf_counter() - started


class CopyingBus:
    """The local bus without its append from the outbox: the relay then builds each message
    in Python and the bus COPies them into the log, as it did before."""

    def __init__(self, bus: LocalBus) -> None:
        self._bus = bus

    async def start(self) -> None:
        await self._bus.start()

    async def stop(self) -> None:
        await self._bus.stop()

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        await self._bus.ensure_topics(topics)

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        await self._bus.publish(messages)

    def consumer(
        self, group: str, topics: Sequence[str], *, linger_ms: int = 0
    ) -> LocalBusConsumer:
        return self._bus.consumer(group, topics, linger_ms=linger_ms)

    async def ping(self) -> None:
        await self._bus.ping()


async def _check_last_appended(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The messages the statement appended read back as the relay's own would."""
    async with sessions() as session:
        rows = (
            await session.execute(
                text('SELECT key, value, headers FROM crm_bus.log ORDER BY "offset" DESC LIMIT 50')
            )
        ).all()
    for row in rows:
        envelope = EventEnvelope.from_headers(decode_headers(row.headers))
        event = BalanceObserved.model_validate_json(row.value)
        assert envelope.subject == row.key.decode() == event.customer_id
        assert envelope.type == BalanceObserved.event_type


async def _compare_appends(
    sessions: async_sessionmaker[AsyncSession], bus: LocalBus, events: int, repeat: int
) -> None:
    copying = CopyingBus(bus)
    copied, selected = [], []
    for _ in range(repeat):
        copied.append(await _drain_seconds(sessions, copying, BATCH, events))
        selected.append(await _drain_seconds(sessions, bus, BATCH, events))
    await _check_last_appended(sessions)
    copy, insert_select = statistics.median(copied), statistics.median(selected)
    print(
        f"local bus append, {BATCH} per round, {events} events, alternating (medians of {repeat})"
    )
    print(f"  relay, messages COPied into the log : {events / copy:10.0f} events/s")
    print(f"  relay, INSERT ... SELECT from outbox : {events / insert_select:10.0f} events/s")
    print(f"  ratio INSERT ... SELECT / COPY       : {copy / insert_select:10.2f}x")
    print("  runs (s), COPY            : " + " ".join(f"{t:.3f}" for t in copied))
    print("  runs (s), INSERT ... SELECT: " + " ".join(f"{t:.3f}" for t in selected))


async def _compare_round_sizes(
    sessions: async_sessionmaker[AsyncSession],
    bus: Bus,
    events: int,
    repeat: int,
    sizes: Sequence[int],
) -> None:
    taken: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(repeat):
        for size in sizes:
            taken[size].append(await _drain_seconds(sessions, bus, size, events))
    first = statistics.median(taken[sizes[0]])
    print(f"a backlog of {events} events by round size, alternating (medians of {repeat})")
    for size in sizes:
        median = statistics.median(taken[size])
        print(
            f"  {size:5d} per round : {events / median:10.0f} events/s,"
            f" {first / median:5.2f}x of {sizes[0]}"
        )


async def main(
    events: int, repeat: int, settings: SharedSettings, round_sizes: Sequence[int]
) -> None:
    await upgrade(settings, MIGRATIONS)
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    sessions.configure(info={EVENT_SOURCE: "/crm/bench"})
    bus = create_bus(settings, engine)
    await bus.start()
    await bus.ensure_topics([BalanceObserved.topic])
    baseline, batched = [], []
    try:
        for _ in range(repeat):
            baseline.append(await _drain_seconds(sessions, bus, 1, events))
            batched.append(await _drain_seconds(sessions, bus, settings.relay_batch_size, events))
        if isinstance(bus, LocalBus):
            await _compare_appends(sessions, bus, events * 5, repeat * 2)
        await _compare_round_sizes(sessions, bus, events * 10, repeat, round_sizes)
    finally:
        await bus.stop()
        await engine.dispose()
    base, best = statistics.median(baseline), statistics.median(batched)
    print(f"bus={settings.bus.value} events={events} repeat={repeat} (medians)")
    print(f"  baseline, one event per round : {events / base:10.0f} events/s")
    print(
        f"  relay, {settings.relay_batch_size} per round           : {events / best:10.0f} events/s"
    )
    print(f"  ratio batched/baseline        : {base / best:10.1f}x")


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bus", choices=["local", "kafka"], default="local")
    parser.add_argument("--round-sizes", type=int, nargs="+", default=[BATCH, 1000, 2000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        postgres = EmbeddedPostgres(Path(work) / "pg", port=free_port())
        postgres.start()
        broker = KafkaBroker(Path(work) / "kafka") if args.bus == "kafka" else None
        try:
            postgres.ensure_database("bench")
            if broker is not None:
                broker.start()
            settings = BenchSettings(
                database_url=postgres.url("bench"),
                bus=BusBackend(args.bus),
                kafka_bootstrap_servers=broker.bootstrap_servers if broker else "",
                kafka_topic_partitions=6,
            )
            asyncio.run(main(args.events, args.repeat, settings, args.round_sizes))
        finally:
            if broker is not None:
                broker.stop()
            postgres.stop()


if __name__ == "__main__":
    run()
