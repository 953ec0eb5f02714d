"""The batch that decides every customer's segments again: what time alone changes."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from services.customer.config import Settings
from services.customer.valuation.service import revalue_customer, revalue_everyone
from shared.db import create_engine, create_sessionmaker
from shared.outbox import EVENT_SOURCE
from tests.service.conftest import scalar
from tests.service.customer.factories import (
    create_customer,
    open_account,
    transaction,
    valued_by_its_events,
)


class TestBatchRevalue:
    async def test_a_customer_gone_quiet_is_found_by_the_batch_and_a_rerun_changes_nothing(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        customer = await create_customer(client)
        account = (await open_account(client, customer["id"]))["full_number"]
        await client.post("/v1/transactions", json={"transactions": [transaction(account)]})

        await valued_by_its_events(customer_settings, customer["id"])
        engine = create_engine(customer_settings)
        sessions = create_sessionmaker(engine)
        sessions.configure(info={EVENT_SOURCE: customer_settings.event_source})
        half_a_year_later = datetime.now(UTC) + timedelta(days=200)

        try:
            first = await revalue_everyone(
                sessions, settings=customer_settings, at=half_a_year_later
            )
            second = await revalue_everyone(
                sessions, settings=customer_settings, at=half_a_year_later
            )
        finally:
            await engine.dispose()

        segments = (
            await client.get(
                f"/v1/customers/{customer['id']}/segments",
                params={"as_of": (half_a_year_later + timedelta(seconds=1)).isoformat()},
            )
        ).json()["segments"]
        assert segments["loyalty"]["current"] == "non_cooperative"
        assert segments["loyalty"]["reason"] == "no activity for 200 days"
        assert first["customers"] >= 1
        assert first.get("loyalty", 0) >= 1
        assert second == {"customers": second["customers"]}


class TestNoValuationAfterTheRelationship:
    async def test_a_closed_customer_is_not_valued_again_by_a_late_event(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        """What the consumer does with an event that arrives after the customer was closed:
        the customer is not decided again, and nothing is published about them."""
        customer = await create_customer(client)
        closed = await client.post(
            f"/v1/customers/{customer['id']}/close", json={"version": 1, "reason": "moved abroad"}
        )
        assert closed.status_code == 200, closed.text
        engine = create_engine(customer_settings)
        sessions = create_sessionmaker(engine)
        sessions.configure(info={EVENT_SOURCE: customer_settings.event_source})
        published = "SELECT count(*) FROM outbox WHERE message_key = :k"
        before = await scalar(customer_settings, published, k=customer["id"])
        try:
            async with sessions() as session, session.begin():
                changed = await revalue_customer(
                    session,
                    uuid.UUID(customer["id"]),
                    settings=customer_settings,
                    at=datetime.now(UTC) + timedelta(days=200),
                )
        finally:
            await engine.dispose()
        assert changed == []
        assert await scalar(customer_settings, published, k=customer["id"]) == before
