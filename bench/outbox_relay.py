"""Outbox relay throughput: batched rounds against the one-event-per-round baseline.

Both run in the same process, on the same embedded PostgreSQL and the same bus, one after the
other for each repetition, so the machine's noise hits both alike; the ratio is what to read.

    .venv/bin/python -m bench.outbox_relay [--events 2000] [--repeat 3] [--bus local|kafka]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import ClassVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.base import DomainEvent
from crm.infra.kafka import KafkaBroker, free_port
from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import MIGRATIONS
from shared.bus import Bus
from shared.db import create_engine, create_sessionmaker
from shared.metrics import ServiceMetrics
from shared.migrations import upgrade
from shared.outbox import EVENT_SOURCE, OutboxRelay, record_events
from shared.runtime import create_bus
from shared.settings import BusBackend, SharedSettings


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


async def main(events: int, repeat: int, settings: SharedSettings) -> None:
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
            asyncio.run(main(args.events, args.repeat, settings))
        finally:
            if broker is not None:
                broker.stop()
            postgres.stop()


if __name__ == "__main__":
    run()
