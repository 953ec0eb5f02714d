"""Back-pressure: when the outbox cannot drain, or every database connection is busy, new
writes get 503 with Retry-After instead of piling up; readiness stays green."""

import asyncio
import time
import uuid

import httpx
from sqlalchemy import text

from services.customer.app import MIGRATIONS, create_app
from services.customer.config import Settings
from shared.db import create_engine
from shared.migrations import upgrade
from tests.reporting import report
from tests.service.conftest import scalar, serving
from tests.service.customer.factories import create_customer, individual, open_account, transaction
from tests.waiting import wait_until


class TestOutboxBackPressure:
    async def test_writes_are_refused_above_the_backlog_limit_and_reads_go_on(
        self, database_url: str
    ) -> None:
        settings = Settings(
            database_url=database_url,
            db_schema=f"pressure_{uuid.uuid4().hex[:8]}",
            bus="kafka",
            kafka_bootstrap_servers="127.0.0.1:9",  # nothing listens: the bus is away
            outbox_backlog_limit=3,
        )
        await upgrade(settings, MIGRATIONS)
        async with serving(create_app(settings)) as client:
            accepted = [
                (await client.post("/v1/customers", json=individual())).status_code
                for _ in range(2)
            ]

            async def counted() -> bool:
                metrics = (await client.get("/metrics")).text
                return "crm_outbox_backlog 4.0" in metrics

            await wait_until(counted, timeout=20)
            refused = await client.post("/v1/customers", json=individual())
            read = await client.get("/healthz")

        assert accepted == [201, 201]
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "5"
        assert refused.json()["type"].endswith("/back-pressure")
        assert refused.json()["backlog"] == 4
        assert read.status_code == 200


class TestDatabasePoolBackPressure:
    async def test_writes_beyond_the_pool_are_refused_fast_and_nothing_half_written(
        self, database_url: str
    ) -> None:
        settings = Settings(
            database_url=database_url,
            db_schema=f"pool_{uuid.uuid4().hex[:8]}",
            database_pool_size=2,
            database_pool_timeout_seconds=0.5,
        )
        await upgrade(settings, MIGRATIONS)
        async with serving(create_app(settings)) as client:
            customer = await create_customer(client)
            account = (await open_account(client, customer["id"]))["full_number"]
            bodies = [transaction(account) for _ in range(20)]

            async def post(body: dict[str, object]) -> tuple[httpx.Response, float]:
                started = time.monotonic()
                answer = await client.post("/v1/transactions", json={"transactions": [body]})
                return answer, time.monotonic() - started

            # Another system holds the account's row: each posting waits for it while holding
            # one of the pool's two connections, and the rest find the pool exhausted.
            engine = create_engine(settings)
            try:
                async with engine.begin() as holder:
                    await holder.execute(
                        text("SELECT 1 FROM accounts WHERE account_number = :n FOR UPDATE"),
                        {"n": account},
                    )
                    answers = asyncio.gather(*(post(body) for body in bodies))
                    await asyncio.sleep(2)  # well past the pool timeout
                    # Busy, not broken: the replica stays in the Service.
                    ready = await client.get("/readyz")
                results = await answers
            finally:
                await engine.dispose()
            stored = await scalar(
                settings,
                "SELECT array_agg(transaction_id) FROM transactions WHERE account_number = :n",
                n=account,
            )

        accepted = [b["transaction_id"] for b, (a, _) in zip(bodies, results, strict=True)
                    if a.status_code == 200]  # fmt: skip
        refused = [(a, took) for a, took in results if a.status_code != 200]
        slowest = max(took for _, took in refused)
        assert isinstance(stored, list)
        report(
            f"\ndatabase pool of 2 exhausted by 20 concurrent postings: accepted {len(accepted)}, "
            f"refused {len(refused)} (slowest refusal {slowest:.2f} s), stored {len(stored)}"
        )
        assert ready.status_code == 200, ready.json()
        # At most the pool's two got a connection (the relay and the consumer use the same
        # pool, so one of the two may have gone to them); every other posting was refused.
        assert 1 <= len(accepted) <= 2
        assert len(accepted) + len(refused) == 20
        assert {a.status_code for a, _ in refused} == {503}
        assert all(a.headers["retry-after"] == "1" for a, _ in refused)
        assert all(a.json()["type"].endswith("/back-pressure") for a, _ in refused)
        assert slowest < 1.5  # refused at the pool timeout, not after waiting for the lock
        assert sorted(stored) == sorted(accepted)  # nothing refused was half-written
