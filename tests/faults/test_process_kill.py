"""``kill -9`` of a consuming service in the middle of a stream, and its restart.

The detector (`crm serve events`, a process of its own on the real Kafka broker) consumes a
steady stream of ``transaction.posted`` events: for each of 20 customers, credits of 1, 2, …
50 on one account, each ``balance_after`` the running total. Midway the process is killed
with SIGKILL (no shutdown, no commit, no flush) and started again. At the end the test
counts, and prints:

* acknowledged: events the broker accepted;
* effects found: events in the detector's kept history (one row per event id);
* lost: acknowledged events with no effect (must be 0);
* duplicated: credits counted more than once in the customers' daily figures (must be 0;
  the inbox is what stops an event redelivered after the kill from being applied twice);
* out of order: customers whose account balance is not the last event's (must be 0);
* time to recover: from the restart to the last effect.
"""

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from services.customer.events import TransactionPosted
from services.events.app import MIGRATIONS
from services.events.config import Settings
from shared.bus.kafka import KafkaBus
from shared.catalogue import Topic
from shared.migrations import upgrade
from tests.faults.conftest import serve_in_own_process, stop
from tests.service.conftest import message_of, scalar
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka

CUSTOMERS = 20
CREDITS_EACH = 50
ACCOUNT = "6222000099990000"


async def _at_least(count: Callable[[], Awaitable[int]], target: int) -> bool:
    return await count() >= target


def _credit(customer_id: uuid.UUID, number: int, at: datetime) -> TransactionPosted:
    return TransactionPosted(
        customer_id=customer_id, transaction_id=f"KILL-{customer_id.hex[:8]}-{number:03d}",
        account_number=ACCOUNT, product_type="current", direction="credit",
        amount=number, currency="CNY", balance_after=number * (number + 1) // 2,
        kind="deposit", channel="branch", counterparty_bank=None, booked_at=at,
    )  # fmt: skip


async def test_a_killed_consumer_restarts_and_loses_doubles_and_reorders_nothing(
    postgres_server: EmbeddedPostgres, kafka_bootstrap: str
) -> None:
    postgres_server.ensure_database("crm_kill_test")
    url = postgres_server.url("crm_kill_test")
    settings = Settings(database_url=url)
    await upgrade(settings, MIGRATIONS)
    env = {
        **os.environ, "CRM_DATABASE_URL": url, "CRM_BUS": "kafka",
        "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "CRM_EVENTS_PORT": str(free_port()),
        "CRM_LOG_LEVEL": "WARNING", "CRM_EVENTS_CONSUMER_BATCH_SIZE": "20",
    }  # fmt: skip
    customers = [uuid.uuid4() for _ in range(CUSTOMERS)]
    now = datetime.now(UTC)
    bus = KafkaBus(kafka_bootstrap, client_id="crm-test-load", partitions=6, replication_factor=1)
    await bus.start()
    await bus.ensure_topics([Topic.TRANSACTIONS])
    acknowledged = 0

    async def load() -> None:
        nonlocal acknowledged
        for number in range(1, CREDITS_EACH + 1):
            batch = [_credit(c, number, now) for c in customers]
            await bus.publish([message_of(e, source="/crm/customer") for e in batch])
            acknowledged += len(batch)
            await asyncio.sleep(0.06)

    async def applied() -> int:
        ids = [str(c) for c in customers]
        found = await scalar(
            settings,
            "SELECT count(*) FROM events.observed_events WHERE customer_id::text = ANY(:ids)",
            ids=ids,
        )
        assert isinstance(found, int)
        return found

    process = serve_in_own_process("events", env)
    try:
        stream = asyncio.create_task(load())
        # Kill it once it is consuming: some effects in, most of the stream still to come.
        await wait_until(lambda: _at_least(applied, 100), timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        killed_with = await applied()
        restarted_at = time.monotonic()
        process = serve_in_own_process("events", env)
        await stream
        await wait_until(lambda: _at_least(applied, acknowledged), timeout=120)
        recovery = time.monotonic() - restarted_at
    finally:
        stop(process)
        await bus.stop()

    found = await applied()
    credits = await scalar(
        settings,
        "SELECT coalesce(sum(count_in), 0) FROM events.customer_days "
        "WHERE customer_id::text = ANY(:ids)",
        ids=[str(c) for c in customers],
    )
    reordered = await scalar(
        settings,
        "SELECT count(*) FROM events.customer_holdings WHERE customer_id::text = ANY(:ids) "
        "AND account_number = :account AND balance <> :last",
        ids=[str(c) for c in customers], account=ACCOUNT,
        last=CREDITS_EACH * (CREDITS_EACH + 1) // 2,
    )  # fmt: skip
    lost = acknowledged - found
    assert isinstance(credits, int)
    duplicated = credits - found
    print(
        f"\nkill -9 of the detector: acknowledged {acknowledged}, effects found {found} "
        f"({killed_with} before the kill), lost {lost}, duplicated {duplicated}, "
        f"out of order {reordered}, time to recover {recovery:.1f} s"
    )
    assert acknowledged == CUSTOMERS * CREDITS_EACH
    assert 0 < killed_with < acknowledged
    assert lost == 0
    assert duplicated == 0
    assert reordered == 0
