"""The detector against a raw aiokafka consume-and-produce loop, on the real broker.

Both read the same transaction events from the same topic in the same run, one after the
other, so the machine's noise hits both alike; the ratios are what to read.

- Throughput: a backlog of ``--events`` transactions (2% of them large withdrawals that fire
  a rule) is consumed from the beginning by one detector process (consumer, state, rules,
  opportunities, outbox relay) and by the raw loop (decode, the same threshold test, produce
  an output message, commit), each under a fresh group.
- The database floor (``bench/detector_floor.py``): the same number of events' polls, their
  statements alone, driven with events decoded and rows made in advance.
- Latency at a steady rate: ``--rate`` events/s for ``--seconds``, first for the detector,
  then for the raw loop; for each firing event, the time from its publication to its
  opportunity on ``crm.opportunities.v1`` (for the raw loop, to its output message). The
  rule's control group (10%) is never published, so about a tenth of the detector's firings
  do not arrive, by design. Lag left after the run is reported. The publisher and the
  watcher run in a process of their own, as the channels and the subscribers would: sharing
  the measured process's event loop, they delayed it and were delayed by it. The load sends
  what is due every ``--tick-ms``: at 1000/s a 50 ms tick is a burst of 50 events, and the
  last of a burst waits behind the other 49 in either consumer, which measures the burst more
  than the consumer; 10 ms is nearer a steady flow.

    .venv/bin/python -m bench.detector [--events 20000] [--rate 1000] [--seconds 10]
                                       [--tick-ms 10] [--batch 500]
"""

import argparse
import asyncio
import json
import multiprocessing
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.cpu import machine_line
from bench.detector_floor import database_floor
from bench.detector_phases import PhaseProbe
from contracts.base import DomainEvent
from contracts.catalogue import Topic
from contracts.customer import CustomerRegistered, TransactionPosted
from crm.infra.kafka import KafkaBroker, free_port
from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from crm.serving import tune_garbage_collector
from services.events.config import Settings
from services.events.consumers import build_batch_handler, build_handlers
from services.events.service import RuleBook
from shared.bus.kafka import KafkaBus
from shared.metrics import ServiceMetrics
from shared.migrations import upgrade
from shared.outbox import OutboxRecord, to_message
from shared.runtime import ServiceRuntime

RAW_OUTPUT = "crm.bench.raw_opportunities.v1"
FIRING_EVERY = 50  # one event in 50 is a large withdrawal


def _transaction(customer_id: uuid.UUID, n: int, stamp: float) -> TransactionPosted:
    fires = n % FIRING_EVERY == 0
    return TransactionPosted(
        customer_id=customer_id, transaction_id=f"B{stamp:.6f}-{n}",
        account_number="6222000011112222", product_type="current",
        direction="debit" if fires else "credit",
        amount=Decimal(150_000 if fires else 100 + n % 900), currency="CNY",
        balance_after=Decimal(1_000_000), kind="withdrawal" if fires else "deposit",
        channel="web", counterparty_bank=None, booked_at=datetime.now(UTC),
    )  # fmt: skip


def _message(event: DomainEvent) -> tuple[str, bytes, bytes, list[tuple[str, bytes]]]:
    outgoing = to_message(
        OutboxRecord(
            event_id=uuid.uuid4(), topic=event.topic, message_key=event.subject,
            event_type=event.event_type, source="/crm/customer",
            occurred_at=datetime.now(UTC), correlation_id=None,
            payload=event.model_dump(mode="json"),
        )
    )  # fmt: skip
    return outgoing.topic, outgoing.key or b"", outgoing.value, list(outgoing.headers)


async def _send(producer: AIOKafkaProducer, events: Sequence[DomainEvent]) -> None:
    batch = []
    for event in events:
        topic, key, value, headers = _message(event)
        batch.append(await producer.send(topic, value, key=key, headers=headers))
    await asyncio.gather(*batch)


def _raw_fires(value: bytes) -> bool:
    body = json.loads(value)
    return bool(body["direction"] == "debit" and Decimal(body["amount"]) >= 100_000)


async def _raw_loop(
    bootstrap: str, stop_after: int | None, batch: int, *, start: str = "earliest"
) -> float:
    """Consume (from ``start``, up to ``batch`` records a poll, as the detector), test,
    produce, commit; returns seconds for ``stop_after`` messages, or runs until cancelled."""
    consumer = AIOKafkaConsumer(
        Topic.TRANSACTIONS, bootstrap_servers=bootstrap, group_id=f"raw-{uuid.uuid4().hex[:6]}",
        enable_auto_commit=False, auto_offset_reset=start,
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    handled, started = 0, time.perf_counter()
    try:
        while stop_after is None or handled < stop_after:
            batches = await consumer.getmany(timeout_ms=200, max_records=batch)
            for messages in batches.values():
                sends = [
                    await producer.send(RAW_OUTPUT, m.value, key=m.key)
                    for m in messages
                    if _raw_fires(m.value)
                ]
                await asyncio.gather(*sends)
                handled += len(messages)
            if batches:
                await consumer.commit()
        return time.perf_counter() - started
    finally:
        await consumer.stop()
        await producer.stop()


async def _detector_until(
    settings: Settings, handled: int, probe: PhaseProbe
) -> tuple[float, ServiceRuntime]:
    metrics = ServiceMetrics("events")
    book = RuleBook()
    runtime = ServiceRuntime.build(
        settings, handlers=build_handlers(settings, book), metrics=metrics,
        batch_handler=probe.handler(build_batch_handler(settings, book)),
    )  # fmt: skip
    probe.attach(runtime.bus)
    started = time.perf_counter()
    await runtime.start()
    assert runtime.consumer is not None
    while _applied(metrics) < handled:  # noqa: ASYNC110  (a metric has no event to wait on)
        await asyncio.sleep(0.01)
    return time.perf_counter() - started, runtime


def _applied(metrics: ServiceMetrics) -> float:
    return sum(
        sample.value
        for family in metrics.registry.collect()
        if family.name == "crm_events_consumed"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels.get("topic") == Topic.TRANSACTIONS
    )


async def _arrivals(bootstrap: str, topic: str, seen: dict[str, float]) -> None:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"watch-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="latest",
    )  # fmt: skip
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for messages in batches.values():
                for message in messages:
                    seen.setdefault((message.key or b"").decode(), now)
    finally:
        await consumer.stop()


async def _steady(
    producer: AIOKafkaProducer,
    customers: list[uuid.UUID],
    firing: list[uuid.UUID],
    rate: int,
    seconds: int,
    tick: float,
) -> dict[str, float]:
    """Publish at ``rate``/s, what is due every ``tick`` seconds; returns each firing event's
    customer → publication time. Each firing event has a customer of its own (registered
    beforehand, so with consent, and never in a cool-down)."""
    sent: dict[str, float] = {}
    stamp, n = time.time(), 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        due = int((time.perf_counter() - started) * rate)
        events = []
        while n < due:
            customer = customers[n % len(customers)]
            if n % FIRING_EVERY == 0:
                customer = firing.pop()
                sent[str(customer)] = time.perf_counter()
            events.append(_transaction(customer, n, stamp))
            n += 1
        await _send(producer, events)
        await asyncio.sleep(tick)
    return sent


@dataclass(frozen=True)
class SteadyLoad:
    """One steady phase, sent to the load process: what to publish and which topic to watch."""

    bootstrap: str
    output: str
    customers: list[uuid.UUID]
    firing: list[uuid.UUID]
    rate: int
    seconds: int
    tick: float


async def _publish_and_watch(load: SteadyLoad) -> tuple[dict[str, float], dict[str, float]]:
    """The steady load and the watcher of its output: firing customer → publication time and
    → arrival time (perf_counter is the system's monotonic clock, so the measured process's
    readings would compare too)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=load.bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    seen: dict[str, float] = {}
    watcher = asyncio.create_task(_arrivals(load.bootstrap, load.output, seen))
    try:
        await asyncio.sleep(3)  # the watcher joins its group
        sent = await _steady(
            producer, load.customers, load.firing, load.rate, load.seconds, load.tick
        )
        await asyncio.sleep(5)  # let the last ones arrive
    finally:
        await _cancel(watcher)
        await producer.stop()
    return sent, seen


def _load_process(load: SteadyLoad) -> tuple[dict[str, float], dict[str, float]]:
    return asyncio.run(_publish_and_watch(load))


async def _under_load(load: SteadyLoad) -> tuple[dict[str, float], dict[str, float]]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, _load_process, load)


async def _cancel(*tasks: "asyncio.Task[object]") -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _latencies(sent: dict[str, float], seen: dict[str, float]) -> tuple[list[float], int]:
    found = [1000 * (seen[k] - t) for k, t in sent.items() if k in seen]
    return sorted(found), len(sent) - len(found)


def _pct(values: list[float], q: float) -> float:
    return values[min(int(q * len(values)), len(values) - 1)] if values else float("nan")


async def main(settings: Settings, events: int, rate: int, seconds: int, tick: float) -> None:
    # The detector runs in this process, beside the raw loop: collect as `crm serve` does.
    tune_garbage_collector()
    for spec in SERVICES.values():
        await upgrade(spec.settings_class(database_url=settings.database_url), spec.migrations)
    bootstrap = settings.kafka_bootstrap_servers
    admin = KafkaBus(bootstrap, client_id="bench", partitions=6, replication_factor=1)
    await admin.start()
    await admin.ensure_topics([Topic.CUSTOMER, Topic.TRANSACTIONS, Topic.OPPORTUNITIES, RAW_OUTPUT])
    await admin.stop()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    customers = [uuid.uuid4() for _ in range(500)]
    # Two steady phases, each firing event with a customer of its own.
    firing = [uuid.uuid4() for _ in range(2 * (rate * seconds // FIRING_EVERY + 10))]
    try:
        await _send(producer, [
            CustomerRegistered(customer_id=c, kind="individual", branch_code="0101",
                               value_tier="ordinary", identifiers=[], consent={"phone": True},
                               preferred_channel="phone", birth_month_day=None)
            for c in [*customers, *firing]
        ])  # fmt: skip
        stamp = time.time()
        await _send(producer, [_transaction(customers[n % 500], n, stamp) for n in range(events)])

        raw_seconds = await _raw_loop(bootstrap, events, settings.consumer_batch_size)
        others = [uuid.uuid4() for _ in range(500)]  # the floor's customers, of its own
        floor = await database_floor(
            settings,
            [_transaction(others[n % 500], n, stamp) for n in range(events)],
            settings.consumer_batch_size,
        )
        probe = PhaseProbe()
        detector_seconds, runtime = await _detector_until(settings, events, probe)
        raw_rate, detector_rate = events / raw_seconds, events / detector_seconds
        # The floor has no start: its like is the detector from its first poll on, every event
        # it polled counted (the customers' registrations too, which the floor does not write).
        polled, polling_seconds = probe.polling(until=time.perf_counter())
        polling_rate = polled / polling_seconds
        print(f"throughput, backlog of {events} transactions (2% firing), one process each")
        print(f"  raw aiokafka consume-test-produce : {raw_rate:9.0f} events/s")
        print(f"  database floor (a poll's statements): {floor.rate:7.0f} events/s")
        print(f"  detector                          : {detector_rate:9.0f} events/s")
        print(f"  ratio detector/raw                : {detector_rate / raw_rate:9.2f}")
        print(
            f"  detector, its polls (start {detector_seconds - polling_seconds:.2f} s left out)"
            f": {polling_rate:5.0f} events/s"
        )
        print(f"  ratio detector/floor, whole run   : {detector_rate / floor.rate:9.2f}")
        print(f"  ratio detector/floor, its polls   : {polling_rate / floor.rate:9.2f}")
        print(f"  ratio floor/raw                   : {floor.rate / raw_rate:9.2f}")
        print("  floor, ms a poll: " + ", ".join(f"{k} {v:.1f}" for k, v in floor.phases.items()))
        print(probe.backlog())

        # Steady rate, one after the other so that neither takes the other's CPU: the
        # detector (already running), then the raw loop; each firing event with a customer of
        # its own.
        half = len(firing) // 2
        probe.watch([str(c) for c in firing[:half]])
        sent_detector, seen_detector = await _under_load(
            SteadyLoad(
                bootstrap, Topic.OPPORTUNITIES, customers, firing[:half], rate, seconds, tick
            )
        )
        assert runtime.consumer is not None
        caught_up = await runtime.consumer.caught_up()
        await runtime.stop()
        probe.detach()

        raw = asyncio.create_task(
            _raw_loop(bootstrap, None, settings.consumer_batch_size, start="latest")
        )
        sent_raw, seen_raw = await _under_load(
            SteadyLoad(bootstrap, RAW_OUTPUT, customers, firing[half:], rate, seconds, tick)
        )
        await _cancel(raw)

        detector_ms, detector_missing = _latencies(sent_detector, seen_detector)
        raw_ms, raw_missing = _latencies(sent_raw, seen_raw)
        print(
            f"steady {rate} events/s for {seconds} s each, sent every {1000 * tick:.0f} ms:"
            " publication to opportunity"
        )
        for name, values, missing in (("raw", raw_ms, raw_missing),
                                      ("detector", detector_ms, detector_missing)):  # fmt: skip
            print(
                f"  {name:9} p50 {_pct(values, 0.5):8.1f} ms  p99 {_pct(values, 0.99):8.1f} ms"
                f"  ({len(values)} arrived; {missing} not: held out or later than 5 s)"
            )
        if raw_ms and detector_ms:
            ratio = statistics.median(detector_ms) / statistics.median(raw_ms)
            print(f"  p50 ratio detector/raw : {ratio:.1f}")
        print(f"  detector lag left after the run: {'none' if caught_up else 'some'}")
        print("\n".join(probe.report(sent_detector, seen_detector)))
    finally:
        await producer.stop()


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--tick-ms", type=float, default=10,
        help="the steady load sends what is due this often (a burst of rate × tick events)",
    )  # fmt: skip
    parser.add_argument(
        "--batch", type=int, default=Settings.model_fields["consumer_batch_size"].default,
        help="records per consumer poll (the service's default)",
    )  # fmt: skip
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as work:
        postgres = EmbeddedPostgres(Path(work) / "pg", port=free_port())
        broker = KafkaBroker(Path(work) / "kafka")
        postgres.start()
        try:
            broker.start()
            postgres.ensure_database("bench")
            settings = Settings(
                database_url=postgres.url("bench"), bus="kafka",
                kafka_bootstrap_servers=broker.bootstrap_servers, log_level="WARNING",
                relay_poll_interval_seconds=0.05, schedule_interval_seconds=3600,
                consumer_batch_size=args.batch,
            )  # fmt: skip
            asyncio.run(main(settings, args.events, args.rate, args.seconds, args.tick_ms / 1000))
        finally:
            broker.stop()
            postgres.stop()


if __name__ == "__main__":
    run()
