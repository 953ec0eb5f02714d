"""What a transaction batch waits for on its customers, and what it does not.

The valuation consumer holds its customers' rows while it revalues them; a batch for the same
customers must not queue behind it. Two batches on different accounts of one customer must
still commit one after the other, so that their events reach the bus in the order posted."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.accounts import ingest_repository
from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from shared.db import create_engine
from tests.service.customer.factories import create_customer, open_account, transaction

# Long enough for a waiting batch to show that it waits on this 2-core machine.
_WAIT_SECONDS = 1.0


@asynccontextmanager
async def _open_transaction(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A transaction of its own on the service's schema, rolled back at the end."""
    engine = create_engine(settings)
    try:
        async with AsyncSession(engine) as session:
            yield session  # closing the session rolls its transaction back
    finally:
        await engine.dispose()


class TestIngestLocking:
    async def test_a_batch_does_not_wait_for_the_valuation_of_its_customer(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        async with _open_transaction(customer_settings) as valuation:
            await customers_repository.lock_customers(valuation, [uuid.UUID(created["id"])])

            answer = await asyncio.wait_for(
                client.post("/v1/transactions", json={"transactions": [transaction(account)]}),
                timeout=10 * _WAIT_SECONDS,
            )

            assert answer.status_code == 200, answer.text
            assert answer.json()["posted"] == 1

    async def test_two_batches_on_one_customers_accounts_commit_one_after_the_other(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        first = (await open_account(client, created["id"]))["full_number"]
        second = (await open_account(client, created["id"]))["full_number"]
        in_flight = json.dumps([transaction(first)])
        async with _open_transaction(customer_settings) as other_batch:
            refusal = await ingest_repository.lock_and_check(other_batch, in_flight, "[]")
            assert refusal is None

            posting = asyncio.ensure_future(
                client.post("/v1/transactions", json={"transactions": [transaction(second)]})
            )
            await asyncio.sleep(_WAIT_SECONDS)

            assert not posting.done()
        answer = await asyncio.wait_for(posting, timeout=10 * _WAIT_SECONDS)
        assert answer.status_code == 200, answer.text

    async def test_a_batch_on_another_customer_does_not_wait(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        busy = await create_customer(client)
        idle = await create_customer(client)
        busy_account = (await open_account(client, busy["id"]))["full_number"]
        idle_account = (await open_account(client, idle["id"]))["full_number"]
        in_flight = json.dumps([transaction(busy_account)])
        async with _open_transaction(customer_settings) as other_batch:
            assert await ingest_repository.lock_and_check(other_batch, in_flight, "[]") is None

            answer = await asyncio.wait_for(
                client.post("/v1/transactions", json={"transactions": [transaction(idle_account)]}),
                timeout=10 * _WAIT_SECONDS,
            )

            assert answer.status_code == 200, answer.text
