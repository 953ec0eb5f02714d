"""A customer's state goes to its tables and comes back to the cent."""

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.events.repository import states as states_repository
from services.events.state import CustomerState, DayFigures, Holding
from shared.db import transaction
from tests.service.events.conftest import BANK_TODAY


async def test_money_figures_come_back_exactly_as_saved(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Amounts at the edges of the columns' precision, signs, zero and none: they travel to the
    # database as text and PostgreSQL parses them, so each must come back as it was.
    customer_id = uuid.uuid4()
    state = CustomerState(str(customer_id))
    yesterday = BANK_TODAY - timedelta(days=1)
    state.days[BANK_TODAY] = DayFigures(
        money_in=Decimal("999999999999999999.99"), money_out=Decimal("0.01"), count_in=2,
        count_out=1, max_in=Decimal("123456789012345678.90"), max_out=Decimal("0.01"),
        contacts=0, closing_balance=Decimal("-42.50"),
    )  # fmt: skip
    state.days[yesterday] = DayFigures(closing_balance=None)
    state.holdings["6222000011112222"] = Holding("loan", Decimal("-1000.05"))
    state.holdings["6222000011113333"] = Holding("current", Decimal("0"))
    changes = states_repository.Changes(
        profiles={customer_id},
        days={(customer_id, BANK_TODAY), (customer_id, yesterday)},
        holdings={(customer_id, account) for account in state.holdings},
    )
    async with transaction(sessions) as session:
        await states_repository.save_run(
            session, {customer_id: state}, changes, observed=[], firings=[]
        )

    async with transaction(sessions) as session:
        loaded = await states_repository.load_states(
            session, [customer_id], since=BANK_TODAY - timedelta(days=5)
        )
    read = loaded.states[customer_id]
    assert read.days == state.days
    assert read.holdings == state.holdings
