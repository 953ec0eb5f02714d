"""The Kafka broker goes away and comes back: writes keep being accepted (the outbox holds
their events), readiness says the bus is down, and the backlog drains once it returns."""

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.infra.kafka import KafkaBroker, kafka_available
from services.customer.app import MIGRATIONS, create_app
from services.customer.config import Settings
from shared.bus.kafka import KafkaBus
from shared.migrations import upgrade
from tests.faults.conftest import unpublished
from tests.service.conftest import serving
from tests.service.customer.factories import create_customer, open_account, transaction
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka


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


class TestBrokerOutage:
    async def test_writes_continue_and_the_backlog_drains_when_kafka_returns(
        self, own_broker: KafkaBroker, database_url: str
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
            customer = await create_customer(client)
            account = (await open_account(client, customer["id"]))["full_number"]

            own_broker.stop()
            stopped_at = time.monotonic()
            ready = await client.get("/readyz")
            accepted, posted = [], []
            for _ in range(5):
                body = transaction(account)
                answer = await client.post("/v1/transactions", json={"transactions": [body]})
                accepted.append(answer.status_code)
                posted.append(body["transaction_id"])
            waiting = await unpublished(settings)
            await asyncio.sleep(max(0.0, 5 - (time.monotonic() - stopped_at)))

            own_broker.start()

            async def drained() -> bool:
                return await unpublished(settings) == 0

            await wait_until(drained, timeout=90, every=0.5)
            ready_again = await client.get("/readyz")

        assert ready.status_code == 503
        assert ready.json()["checks"]["bus"].startswith("unavailable")
        assert accepted == [200] * 5
        assert waiting >= 5
        assert ready_again.status_code == 200
        assert await _delivered(own_broker.bootstrap_servers, set(posted)) == set(posted)


async def _delivered(bootstrap: str, wanted: set[str]) -> set[str]:
    """The transaction ids of ``wanted`` found on the topic (duplicates are allowed)."""
    bus = KafkaBus(bootstrap, client_id="check", partitions=3, replication_factor=1)
    await bus.start()
    consumer = bus.consumer(f"check-{uuid.uuid4().hex[:6]}", ["crm.transactions.v1"])
    await consumer.start()
    seen: set[str] = set()
    try:
        async with asyncio.timeout(60):
            while not wanted <= seen:
                for message in await consumer.poll(max_records=500, timeout=0.5):
                    seen.add(json.loads(message.value).get("transaction_id"))
    finally:
        await consumer.stop()
        await bus.stop()
    return seen & wanted
