"""``kill -9`` of a consuming service in the middle of a stream: restarted, or with a second
replica in the same consumer group taking its partitions over.

The detector (`crm serve events`, a process of its own on the real Kafka broker) consumes a
steady stream of ``transaction.posted`` events: for each of 20 customers, credits of 1, 2, …
50 on one account, each ``balance_after`` the running total. Midway a process is killed with
SIGKILL (no shutdown, no commit, no flush). At the end the test counts, and prints:

* acknowledged: events the broker accepted;
* effects found: events in the detector's kept history (one row per event id);
* lost: acknowledged events with no effect (must be 0);
* duplicated: credits counted more than once in the customers' daily figures (must be 0;
  the inbox is what stops an event redelivered after the kill from being applied twice);
* out of order: customers whose account balance is not the last event's (must be 0);
* time to recover: from the restart (or the kill, when a replica takes over) to the last
  effect.
"""

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest

from contracts.catalogue import Topic
from contracts.customer import TransactionPosted
from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from services.events.app import MIGRATIONS
from services.events.config import Settings
from shared.bus.kafka import KafkaBus
from shared.migrations import upgrade
from tests.faults.conftest import serve_in_own_process, stop
from tests.reporting import report
from tests.service.conftest import message_of, scalar
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka

CUSTOMERS = 20
CREDITS_EACH = 50
ACCOUNT = "6222000099990000"
LAST_BALANCE = CREDITS_EACH * (CREDITS_EACH + 1) // 2


async def _at_least(count: Callable[[], Awaitable[int]], target: int) -> bool:
    return await count() >= target


def _credit(customer_id: uuid.UUID, number: int, at: datetime) -> TransactionPosted:
    return TransactionPosted(
        customer_id=customer_id, transaction_id=f"KILL-{customer_id.hex[:8]}-{number:03d}",
        account_number=ACCOUNT, product_type="current", direction="credit",
        amount=number, currency="CNY", balance_after=number * (number + 1) // 2,
        kind="deposit", channel="branch", counterparty_bank=None, booked_at=at,
    )  # fmt: skip


@dataclass
class CreditStream:
    """The stream of credits, and the detector's database it leaves its effects in."""

    settings: Settings
    env: dict[str, str]
    bus: KafkaBus
    round_pause: float
    customers: list[uuid.UUID] = field(
        default_factory=lambda: [uuid.uuid4() for _ in range(CUSTOMERS)]
    )
    acknowledged: int = 0

    async def load(self) -> None:
        now = datetime.now(UTC)
        for number in range(1, CREDITS_EACH + 1):
            batch = [_credit(c, number, now) for c in self.customers]
            await self.bus.publish([message_of(e, source="/crm/customer") for e in batch])
            self.acknowledged += len(batch)
            await asyncio.sleep(self.round_pause)

    async def _count(self, sql: str, **params: object) -> int:
        found = await scalar(self.settings, sql, ids=[str(c) for c in self.customers], **params)
        assert isinstance(found, int)
        return found

    async def applied(self) -> int:
        return await self._count(
            "SELECT count(*) FROM events.observed_events WHERE customer_id::text = ANY(:ids)"
        )

    async def all_applied(self) -> bool:
        return await self.applied() >= self.acknowledged

    def replica(self) -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        return serve_in_own_process("events", {**self.env, "CRM_EVENTS_PORT": str(port)}), port

    async def report(self, fault: str, recovery: float, **before: int) -> int:
        """Prints the counts and asserts nothing was lost, doubled or reordered."""
        found = await self.applied()
        credits = await self._count(
            "SELECT coalesce(sum(count_in), 0)::int FROM events.customer_days "
            "WHERE customer_id::text = ANY(:ids)"
        )
        reordered = await self._count(
            "SELECT count(*) FROM events.customer_holdings WHERE customer_id::text = ANY(:ids) "
            "AND account_number = :account AND balance <> :last",
            account=ACCOUNT, last=LAST_BALANCE,
        )  # fmt: skip
        lost, duplicated = self.acknowledged - found, credits - found
        extra = "".join(f", {name.replace('_', ' ')} {n}" for name, n in before.items())
        report(
            f"\n{fault}: acknowledged {self.acknowledged}, effects found {found}{extra}, "
            f"lost {lost}, duplicated {duplicated}, out of order {reordered}, "
            f"time to recover {recovery:.1f} s"
        )
        assert self.acknowledged == CUSTOMERS * CREDITS_EACH
        assert lost == 0
        assert duplicated == 0
        assert reordered == 0
        return found


@asynccontextmanager
async def credit_stream(
    postgres_server: EmbeddedPostgres, kafka_bootstrap: str, *, round_pause: float
) -> AsyncIterator[CreditStream]:
    database = f"crm_kill_{uuid.uuid4().hex[:8]}"
    postgres_server.ensure_database(database)
    settings = Settings(database_url=postgres_server.url(database))
    await upgrade(settings, MIGRATIONS)
    env = {
        **os.environ, "CRM_DATABASE_URL": postgres_server.url(database), "CRM_BUS": "kafka",
        "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "CRM_LOG_LEVEL": "WARNING",
        "CRM_EVENTS_CONSUMER_BATCH_SIZE": "20",
    }  # fmt: skip
    bus = KafkaBus(kafka_bootstrap, client_id="crm-test-load", partitions=6, replication_factor=1)
    await bus.start()
    await bus.ensure_topics([Topic.TRANSACTIONS])
    try:
        yield CreditStream(settings, env, bus, round_pause)
    finally:
        await bus.stop()


async def _handled(port: int) -> float:
    """Events this replica has handled, from its own metrics."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
        try:
            metrics = (await client.get("/metrics")).text
        except httpx.TransportError:
            return 0.0
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("crm_events_consumed_total{")
    )


async def test_a_killed_consumer_restarts_and_loses_doubles_and_reorders_nothing(
    postgres_server: EmbeddedPostgres, kafka_bootstrap: str
) -> None:
    async with credit_stream(postgres_server, kafka_bootstrap, round_pause=0.06) as stream:
        process, _ = stream.replica()
        try:
            load = asyncio.create_task(stream.load())
            # Kill it once it is consuming: some effects in, most of the stream still to come.
            await wait_until(lambda: _at_least(stream.applied, 100), timeout=60)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            killed_with = await stream.applied()
            restarted_at = time.monotonic()
            process, _ = stream.replica()
            await load
            await wait_until(stream.all_applied, timeout=120)
            recovery = time.monotonic() - restarted_at
        finally:
            stop(process)
        await stream.report("kill -9 of the detector", recovery, before_the_kill=killed_with)
    assert 0 < killed_with < stream.acknowledged


async def test_a_replica_killed_mid_stream_hands_its_partitions_to_the_other(
    postgres_server: EmbeddedPostgres, kafka_bootstrap: str
) -> None:
    # Slower rounds: the stream is still flowing when the kill comes and after it.
    async with credit_stream(postgres_server, kafka_bootstrap, round_pause=0.3) as stream:
        (doomed, doomed_port), (survivor, survivor_port) = stream.replica(), stream.replica()
        try:
            load = asyncio.create_task(stream.load())

            async def both_consuming() -> bool:
                return min(await _handled(doomed_port), await _handled(survivor_port)) > 0

            await wait_until(both_consuming, timeout=90, every=0.2)
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(timeout=10)
            killed_at = time.monotonic()
            by_survivor_at_kill = await _handled(survivor_port)
            acknowledged_at_kill = stream.acknowledged
            await load
            await wait_until(stream.all_applied, timeout=120)
            recovery = time.monotonic() - killed_at
            by_survivor = await _handled(survivor_port)
        finally:
            stop(doomed)
            stop(survivor)
        await stream.report(
            "kill -9 of one of two detector replicas", recovery,
            sent_before_the_kill=acknowledged_at_kill, by_the_survivor=int(by_survivor),
        )  # fmt: skip
    assert acknowledged_at_kill < stream.acknowledged  # killed mid-stream
    # Everything sent after the kill, on the killed replica's partitions too, was handled by
    # the survivor: the partitions moved to it.
    assert by_survivor - by_survivor_at_kill >= stream.acknowledged - acknowledged_at_kill
