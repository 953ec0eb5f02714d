"""Two requests writing the same document, account number or card, each before the other
committed: the database holds each to one customer (revision 0022), and the loser is a 409
that writes nothing, never a second customer nor a 500.

Each test holds the first writer's transaction open on a session of its own, sends the second
over HTTP (its check finds nobody, so it writes and waits on the first's row), then commits
the first."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.infra.postgres import EmbeddedPostgres
from crm.registry import SERVICES
from services.customer.accounts.schemas import AccountOpen
from services.customer.accounts.service import open_account as open_account_directly
from services.customer.config import Settings
from services.customer.customers.schemas import CustomerCreate
from services.customer.customers.service import register_customer
from shared.db import create_engine, is_unique_violation
from shared.migrations import upgrade
from tests.service.conftest import scalar
from tests.service.customer.conftest import transaction_of_its_own
from tests.service.customer.factories import account_number, create_customer, individual

# Long enough for the second request to reach its wait on this 2-core machine.
_REACH_SECONDS = 1.0
_REGISTRATION = TypeAdapter(CustomerCreate)


async def _while_first_commits(
    first: AsyncSession, second: asyncio.Future[httpx.Response]
) -> httpx.Response:
    await asyncio.sleep(_REACH_SECONDS)
    assert not second.done(), "the second writer did not wait for the first"
    await first.commit()
    return await asyncio.wait_for(second, timeout=30)


def _problem_type(answer: httpx.Response) -> str:
    kind: str = answer.json()["type"]
    return kind.rsplit("/", 1)[-1]


class TestConcurrentDuplicates:
    async def test_a_registration_racing_one_of_the_same_document_is_refused(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        body = individual()
        document = body["profile"]["id_number"]
        async with transaction_of_its_own(customer_settings) as first:
            winner = await register_customer(
                first, _REGISTRATION.validate_python(body), settings=customer_settings
            )
            winner_id = str(winner.id)
            again = individual(name="另一个人")
            again["profile"]["id_number"] = document
            racing = asyncio.ensure_future(client.post("/v1/customers", json=again))
            answer = await _while_first_commits(first, racing)
        retried = await client.post("/v1/customers", json=body)
        holders = await scalar(
            customer_settings,
            "SELECT count(DISTINCT customer_id) FROM customer_identifiers"
            " WHERE kind = 'resident_id' AND value = :v",
            v=document,
        )

        assert answer.status_code == 409, answer.text
        assert _problem_type(answer) == "concurrent-duplicate"
        assert holders == 1
        assert _problem_type(retried) == "duplicate-customer"
        assert retried.json()["customer_id"] == winner_id

    async def test_an_opening_racing_one_of_the_same_account_number_is_refused(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        owner = await create_customer(client)
        other = await create_customer(client)
        terms: dict[str, Any] = {
            "account_number": account_number(),
            "product_type": "current",
            "product_code": "CUR-STD",
            "currency": "CNY",
            "opened_on": "2024-01-15",
        }
        async with transaction_of_its_own(customer_settings) as first:
            await open_account_directly(
                first,
                AccountOpen(customer_id=uuid.UUID(owner["id"]), **terms),
                settings=customer_settings,
            )
            racing = asyncio.ensure_future(
                client.post("/v1/accounts", json={**terms, "customer_id": other["id"]})
            )
            answer = await _while_first_commits(first, racing)
        held_by = await scalar(
            customer_settings,
            "SELECT CAST(customer_id AS text) FROM accounts WHERE account_number = :n",
            n=terms["account_number"],
        )

        assert answer.status_code == 409, answer.text
        assert _problem_type(answer) == "account-exists"
        assert held_by == owner["id"]

    async def test_an_onboarding_batch_racing_a_registration_is_refused_whole(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        raced = individual()
        bystander = individual()
        async with transaction_of_its_own(customer_settings) as first:
            await register_customer(
                first, _REGISTRATION.validate_python(raced), settings=customer_settings
            )
            racing = asyncio.ensure_future(
                client.post(
                    "/v1/onboarding-batches",
                    json={"customers": [{"customer": bystander}, {"customer": raced}]},
                )
            )
            answer = await _while_first_commits(first, racing)
        bystanders = await scalar(
            customer_settings,
            "SELECT count(*) FROM customer_identifiers WHERE value = :v",
            v=bystander["profile"]["id_number"],
        )

        assert answer.status_code == 409, answer.text
        assert _problem_type(answer) == "concurrent-duplicate"
        assert bystanders == 0


_TWO_HOLDERS = """
INSERT INTO customers (id, kind, name, status, version, profile, consent, value_tier)
VALUES (:first, 'individual', '张伟', 'active', 1, '{}', '{}', 'ordinary'),
       (:second, 'individual', '张伟', 'active', 1, '{}', '{}', 'ordinary');
INSERT INTO customer_identifiers (customer_id, kind, value)
VALUES (:first, 'resident_id', '110101199003074514'),
       (:second, 'resident_id', '110101199003074514'),
       (:first, 'phone', '13800138000'),
       (:second, 'phone', '13800138000')
"""


async def test_the_rule_waits_until_no_document_is_held_twice(
    postgres_server: EmbeddedPostgres,
) -> None:
    name = f"crm_held_once_{uuid.uuid4().hex[:8]}"
    postgres_server.ensure_database(name)
    settings = Settings(database_url=postgres_server.url(name))
    migrations = SERVICES["customer"].migrations
    await upgrade(settings, migrations, "0021")
    engine = create_engine(settings)
    first, second = uuid.uuid4(), uuid.uuid4()
    try:
        async with engine.begin() as connection:
            for statement in _TWO_HOLDERS.split(";"):
                await connection.execute(text(statement), {"first": first, "second": second})
        with pytest.raises(RuntimeError, match="1 identity documents, cards or account numbers"):
            await upgrade(settings, migrations)
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM customer_identifiers WHERE customer_id = :c AND kind <> 'phone'"),
                {"c": second},
            )
        await upgrade(settings, migrations)
        with pytest.raises(IntegrityError) as held_again:
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO customer_identifiers (customer_id, kind, value)"
                        " VALUES (:c, 'resident_id', '110101199003074514')"
                    ),
                    {"c": second},
                )
        async with engine.connect() as connection:
            shared_phones = await connection.scalar(
                text("SELECT count(*) FROM customer_identifiers WHERE kind = 'phone'")
            )
    finally:
        await engine.dispose()

    assert is_unique_violation(held_again.value)
    assert shared_phones == 2
