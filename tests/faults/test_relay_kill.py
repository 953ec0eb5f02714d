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
import os
import signal
import time

import httpx
import pytest

from crm.infra.kafka import free_port
from crm.infra.postgres import EmbeddedPostgres
from services.customer.app import MIGRATIONS
from services.customer.config import Settings
from shared.auth.tokens import development_bearer
from shared.migrations import upgrade
from tests.faults.conftest import (
    TransactionLoad,
    answers_ready,
    published_transactions,
    serve_in_own_process,
    stop,
)
from tests.reporting import report
from tests.waiting import wait_until

pytestmark = pytest.mark.kafka

CUSTOMERS = 10
ROUNDS = 30


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
    process = serve_in_own_process("customer", env)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=5, headers=development_bearer()
    ) as client:
        try:
            await wait_until(lambda: answers_ready(client), timeout=60)
            load = await TransactionLoad.for_new_customers(client, CUSTOMERS)

            # Until every customer has ROUNDS posted: requests made while the service is down
            # fail fast, and the load waits for it rather than running out.
            async with load.running(
                until=lambda it: min(map(len, it.acknowledged.values())) >= ROUNDS
            ) as stream:
                await load.reached(60, timeout=60)
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                await asyncio.sleep(0.5)
                restarted_at = time.monotonic()
                process = serve_in_own_process("customer", env)
                await wait_until(lambda: answers_ready(client), timeout=60)
                recovery = time.monotonic() - restarted_at
                await stream
        finally:
            stop(process)

    counts = await published_transactions(kafka_bootstrap, load.acknowledged)
    report(
        f"\nkill -9 of the customer service's relay: {counts.line()}, "
        f"time to recover {recovery:.1f} s"
    )
    assert counts.acknowledged >= CUSTOMERS * ROUNDS
    assert counts.lost == 0
    assert counts.out_of_order == 0
