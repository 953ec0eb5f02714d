"""A consumer's run decides its customers again from plain rows: those whose segments stand are
only marked valued, the others go on to have their moves recorded and published."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from services.customer.valuation.service import mark_standing_valued
from shared.db import create_engine, create_sessionmaker
from shared.outbox import EVENT_SOURCE
from tests.service.conftest import scalar
from tests.service.customer.factories import create_customer, open_account, transaction
from tests.waiting import wait_until

VALUED_AT = "SELECT valued_at FROM customers WHERE id = :c"
MOVES = "SELECT count(*) FROM segment_changes WHERE customer_id = :c"
PUBLISHED = (
    "SELECT count(*) FROM outbox WHERE message_key = :c"
    " AND event_type = 'crm.customer.segment_changed.v1'"
)


async def _valued_customer(client: httpx.AsyncClient, settings: Settings) -> str:
    customer = await create_customer(client)
    account = (await open_account(client, customer["id"]))["full_number"]
    answer = await client.post(
        "/v1/transactions", json={"transactions": [transaction(account, amount="5000.00")]}
    )
    assert answer.status_code == 200, answer.text

    async def loyalty_decided() -> bool:
        decided = await scalar(
            settings, "SELECT loyalty FROM customers WHERE id = :c", c=customer["id"]
        )
        return decided is not None

    await wait_until(loyalty_decided, timeout=20)
    return str(customer["id"])


class TestARunOfCustomers:
    async def test_standing_customers_are_marked_valued_and_moving_ones_are_returned(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        standing = await _valued_customer(client, customer_settings)
        moving = await _valued_customer(client, customer_settings)
        quiet = await _valued_customer(client, customer_settings)
        moves_before = {c: await scalar(customer_settings, MOVES, c=c) for c in (standing, moving)}
        published_before = await scalar(customer_settings, PUBLISHED, c=standing)
        quiet_valued = await scalar(customer_settings, VALUED_AT, c=quiet)
        assert isinstance(quiet_valued, datetime)
        now = datetime.now(UTC) + timedelta(seconds=1)
        half_a_year_on = now + timedelta(days=200)  # the moving one's loyalty lapses
        engine = create_engine(customer_settings)
        sessions = create_sessionmaker(engine)
        sessions.configure(info={EVENT_SOURCE: customer_settings.event_source})
        try:
            async with sessions() as session, session.begin():
                ids = [uuid.UUID(c) for c in (standing, moving, quiet)]
                await customers_repository.lock_customers(session, ids)
                found = await mark_standing_valued(
                    session,
                    # The quiet one's event is older than its valuation: left as it is.
                    {ids[0]: now, ids[1]: now, ids[2]: quiet_valued},
                    settings=customer_settings,
                    at=now,
                )
            async with sessions() as session, session.begin():
                moved = await mark_standing_valued(
                    session, {ids[1]: half_a_year_on}, settings=customer_settings, at=half_a_year_on
                )
        finally:
            await engine.dispose()

        assert found == []
        assert moved == [uuid.UUID(moving)]
        assert await scalar(customer_settings, VALUED_AT, c=standing) == now
        assert await scalar(customer_settings, VALUED_AT, c=quiet) == quiet_valued
        # A moving customer is not stamped here: revalue_customer records the move and stamps.
        assert await scalar(customer_settings, VALUED_AT, c=moving) == now
        for customer_id, before in moves_before.items():
            assert await scalar(customer_settings, MOVES, c=customer_id) == before
        assert await scalar(customer_settings, PUBLISHED, c=standing) == published_before
