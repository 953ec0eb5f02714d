"""The Kafka broker stops for 30 s in the middle of a steady stream of transactions and starts
again: writes keep being accepted (the outbox holds their events), readiness says the bus is
down, and the backlog drains once the broker is back.

The test prints: acknowledged, published, lost (must be 0), republished (allowed: at least
once), out of order per customer (must be 0), the outbox backlog at its peak, and the time
from the broker's return to an empty outbox.
"""

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.infra.kafka import KafkaBroker, kafka_available
from services.customer.app import MIGRATIONS, create_app
from services.customer.config import Settings
from shared.migrations import upgrade
from tests.faults.conftest import TransactionLoad, published_transactions, unpublished
from tests.reporting import report
from tests.service.conftest import serving
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka

OUTAGE_SECONDS = 30


@pytest.fixture
def own_broker(tmp_path: Path, kafka_bootstrap: str) -> Iterator[KafkaBroker]:
    # kafka_bootstrap: the session broker's fixture decides whether Kafka can run here.
    assert kafka_available() is None
    broker = KafkaBroker(tmp_path / "kafka")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def test_writes_continue_through_a_30_s_outage_and_the_backlog_drains(
    own_broker: KafkaBroker, database_url: str
) -> None:
    settings = Settings(
        database_url=database_url,
        db_schema=f"outage_{uuid.uuid4().hex[:8]}",
        bus="kafka",
        kafka_bootstrap_servers=own_broker.bootstrap_servers,
        kafka_topic_partitions=3,
        relay_poll_interval_seconds=0.2,
    )
    await upgrade(settings, MIGRATIONS)
    async with serving(create_app(settings)) as client:
        load = await TransactionLoad.for_new_customers(client, 5, pause=0.2)
        async with load.running():
            await load.reached(20, timeout=30)

            # In a thread: the service shares this event loop and must keep serving meanwhile.
            await asyncio.to_thread(own_broker.stop)
            stopped_at = time.monotonic()
            acknowledged_before = load.count
            ready = await client.get("/readyz")
            await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped_at)))
            during = load.count - acknowledged_before
            peak = await unpublished(settings)

            await asyncio.to_thread(own_broker.start)
            returned_at = time.monotonic()

            async def drained() -> bool:
                return await unpublished(settings) == 0

            await wait_until(drained, timeout=120, every=0.2)
            drain_took = time.monotonic() - returned_at
            ready_again = await client.get("/readyz")

    counts = await published_transactions(own_broker.bootstrap_servers, load.acknowledged)
    report(
        f"\nKafka down {OUTAGE_SECONDS} s: {counts.line()}, accepted while down {during}, "
        f"refused {sum(load.refused.values())}, outbox backlog at its peak {peak}, "
        f"drained {drain_took:.1f} s after the broker returned"
    )
    assert ready.status_code == 503
    assert ready.json()["checks"]["bus"].startswith("unavailable")
    assert not load.refused  # every write accepted, the broker away or not
    assert during >= 50
    assert peak >= during
    assert ready_again.status_code == 200
    assert counts.lost == 0
    assert counts.out_of_order == 0
