"""What a transaction batch waits for on its customers, and what it does not.

The valuation consumer must not value a customer while a batch of theirs is in flight: it would
not see the batch, and would then skip the batch's events as older than its valuation. Two
batches on different accounts of one customer commit one after the other, so that their events
reach the bus in the order posted; batches of other customers do not wait."""

import asyncio
import json
import uuid

import httpx

from services.customer.accounts import ingest_repository
from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from tests.service.customer.conftest import transaction_of_its_own
from tests.service.customer.factories import create_customer, open_account, transaction

# Long enough for a waiting batch to show that it waits on this 2-core machine.
_WAIT_SECONDS = 1.0


class TestIngestLocking:
    async def test_a_valuation_waits_for_a_batch_in_flight_on_its_customer(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        account = (await open_account(client, created["id"]))["full_number"]
        in_flight = json.dumps([transaction(account)])
        async with transaction_of_its_own(customer_settings) as batch:
            assert await ingest_repository.lock_and_check(batch, in_flight, "[]") is None
            async with transaction_of_its_own(customer_settings) as valuation:
                locking = asyncio.ensure_future(
                    customers_repository.lock_customers(valuation, [uuid.UUID(created["id"])])
                )
                await asyncio.sleep(_WAIT_SECONDS)

                assert not locking.done()
                await batch.rollback()
                await asyncio.wait_for(locking, timeout=10 * _WAIT_SECONDS)

    async def test_two_batches_on_one_customers_accounts_commit_one_after_the_other(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        created = await create_customer(client)
        first = (await open_account(client, created["id"]))["full_number"]
        second = (await open_account(client, created["id"]))["full_number"]
        in_flight = json.dumps([transaction(first)])
        async with transaction_of_its_own(customer_settings) as other_batch:
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
        async with transaction_of_its_own(customer_settings) as other_batch:
            assert await ingest_repository.lock_and_check(other_batch, in_flight, "[]") is None

            answer = await asyncio.wait_for(
                client.post("/v1/transactions", json={"transactions": [transaction(idle_account)]}),
                timeout=10 * _WAIT_SECONDS,
            )

            assert answer.status_code == 200, answer.text
