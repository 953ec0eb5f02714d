"""``kill -9`` of a service whose outbox relay is publishing, in the middle of load, and its
restart.

Transactions are posted one at a time through the customer service's API (`crm serve
customer`, a process of its own, on the real Kafka broker), round after round for ten
customers. After 60 the process is killed with SIGKILL and started again; the load goes on,
and requests made while it is down fail and are not counted as acknowledged. At the end the
test reads ``crm.transactions.v1`` and counts, and prints:

* acknowledged: transactions the API answered as posted;
* published: acknowledged transactions found on Kafka;
* lost: acknowledged but never published (must be 0: the outbox row was committed with the
  transaction, and the restarted relay publishes what the killed one had not);
* republished: extra copies on Kafka (allowed: delivery is at least once, and consumers
  drop a copy by its event id in their inbox);
* out of order: customers whose transactions reached Kafka in another order than they were
  acknowledged (must be 0);
* time to recover: from the restart until the service answers ready again.
"""

import asyncio
import json
import os
import signal
import time
from datetime import UTC, datetime

import httpx
import pytest

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import MIGRATIONS
from services.customer.config import Settings
from shared.bus import ReceivedMessage
from shared.catalogue import Topic
from shared.migrations import upgrade
from tests.faults.conftest import serve_in_own_process, stop
from tests.integration.mechanics import read_until
from tests.service.customer.factories import create_customer, open_account, transaction
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka

CUSTOMERS = 10
ROUNDS = 30


async def _ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def test_a_killed_relay_restarts_and_publishes_every_acknowledged_transaction(
    postgres_server: EmbeddedPostgres, kafka_bootstrap: str
) -> None:
    postgres_server.ensure_database("crm_relay_kill_test")
    url = postgres_server.url("crm_relay_kill_test")
    await upgrade(Settings(database_url=url), MIGRATIONS)
    port = free_port()
    env = {
        **os.environ, "CRM_DATABASE_URL": url, "CRM_BUS": "kafka",
        "CRM_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "CRM_CUSTOMER_PORT": str(port),
        "CRM_LOG_LEVEL": "WARNING", "CRM_RELAY_POLL_INTERVAL_SECONDS": "0.1",
    }  # fmt: skip
    acknowledged: dict[str, list[str]] = {}  # customer id → transaction ids, in answer order
    process = serve_in_own_process("customer", env)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        try:
            await wait_until(lambda: _ready(client), timeout=60)
            accounts = {}
            for _ in range(CUSTOMERS):
                customer = await create_customer(client)
                accounts[customer["id"]] = (await open_account(client, customer["id"]))[
                    "full_number"
                ]
                acknowledged[customer["id"]] = []

            async def load() -> None:
                # Until every customer has ROUNDS posted: requests made while the service is
                # down fail fast, and the load waits for it rather than running out.
                while min(map(len, acknowledged.values())) < ROUNDS:
                    for customer_id, account in accounts.items():
                        body = transaction(account, booked_at=datetime.now(UTC).isoformat())
                        try:
                            answer = await client.post(
                                "/v1/transactions", json={"transactions": [body]}
                            )
                        except httpx.TransportError:
                            await asyncio.sleep(0.2)
                            continue  # down: not acknowledged
                        if answer.status_code == 200 and answer.json()["posted"] == 1:
                            acknowledged[customer_id].append(body["transaction_id"])
                    await asyncio.sleep(0.05)

            async def sixty_in() -> bool:
                return sum(map(len, acknowledged.values())) >= 60

            stream = asyncio.create_task(load())
            await wait_until(sixty_in, timeout=60)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            await asyncio.sleep(0.5)
            restarted_at = time.monotonic()
            process = serve_in_own_process("customer", env)
            await wait_until(lambda: _ready(client), timeout=60)
            recovery = time.monotonic() - restarted_at
            await stream
        finally:
            stop(process)

    wanted = {t for ids in acknowledged.values() for t in ids}
    messages = await _read_until_all(kafka_bootstrap, set(acknowledged), wanted)
    seen: dict[str, list[str]] = {c: [] for c in acknowledged}
    copies = 0
    for message in messages:
        body = json.loads(message.value)
        if body.get("transaction_id") not in wanted:
            continue
        if body["transaction_id"] in seen[body["customer_id"]]:
            copies += 1
            continue
        seen[body["customer_id"]].append(body["transaction_id"])
    count = len(wanted)
    published = sum(len(ids) for ids in seen.values())
    reordered = sum(1 for c, ids in acknowledged.items() if seen[c] != ids)
    print(
        f"\nkill -9 of the customer service's relay: acknowledged {count}, "
        f"published {published}, lost {count - published}, "
        f"republished {copies}, out of order {reordered}, time to recover {recovery:.1f} s"
    )
    assert count >= CUSTOMERS * ROUNDS
    assert published == count
    assert reordered == 0


async def _read_until_all(
    bootstrap: str, customers: set[str], wanted: set[str]
) -> list[ReceivedMessage]:
    def complete(found: list[ReceivedMessage]) -> bool:
        ids = {json.loads(m.value).get("transaction_id") for m in found}
        return wanted <= ids

    return await read_until(bootstrap, Topic.TRANSACTIONS, customers, complete, timeout=120)
