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
from tests.service.customer.factories import (
    create_customer,
    open_account,
    transaction,
    valued_by_its_events,
)

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

    await valued_by_its_events(settings, customer["id"])
    return str(customer["id"])


class TestARunOfCustomers:
    async def test_standing_customers_are_marked_valued_and_moving_ones_are_returned(
        self, client: httpx.AsyncClient, customer_settings: Settings
    ) -> None:
        standing = await _valued_customer(client, customer_settings)
        moving = await _valued_customer(client, customer_settings)
        quiet = await _valued_customer(client, customer_settings)
        # Stored out of step with their facts (one transaction in 90 days is low usage): the
        # run decides them again and finds a move to record.
        await scalar(
            customer_settings,
            "UPDATE customers SET usage_density = 'high' WHERE id = :c RETURNING id",
            c=moving,
        )
        moves_before = {c: await scalar(customer_settings, MOVES, c=c) for c in (standing, moving)}
        published_before = await scalar(customer_settings, PUBLISHED, c=standing)
        valued_before = {
            c: await scalar(customer_settings, VALUED_AT, c=c) for c in (moving, quiet)
        }
        quiet_valued = valued_before[quiet]
        assert isinstance(quiet_valued, datetime)
        now = datetime.now(UTC) + timedelta(seconds=1)
        engine = create_engine(customer_settings)
        sessions = create_sessionmaker(engine)
        sessions.configure(info={EVENT_SOURCE: customer_settings.event_source})
        ids = [uuid.UUID(c) for c in (standing, moving, quiet)]
        try:
            async with sessions() as session, session.begin():
                await customers_repository.lock_customers(session, ids)
                found = await mark_standing_valued(
                    session,
                    # The quiet one's event is older than its valuation: left as it is.
                    {ids[0]: now, ids[1]: now, ids[2]: quiet_valued},
                    settings=customer_settings,
                    at=now,
                )
        finally:
            await engine.dispose()

        assert found.ids == [ids[1]]
        # The money facts read for deciding are handed on, not read again.
        assert set(found.money) == {ids[1]}
        assert found.money[ids[1]].transactions_90d == 1
        assert await scalar(customer_settings, VALUED_AT, c=standing) == now
        # Neither stamped here: revalue_customer records the move, and the quiet one is current.
        for customer_id, before in valued_before.items():
            assert await scalar(customer_settings, VALUED_AT, c=customer_id) == before
        for customer_id, before in moves_before.items():
            assert await scalar(customer_settings, MOVES, c=customer_id) == before
        assert await scalar(customer_settings, PUBLISHED, c=standing) == published_before
