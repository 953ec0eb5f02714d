"""Queries of the detector's per-customer state and of the history it consumed."""

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.models import (
    CustomerDay,
    CustomerHolding,
    CustomerProfile,
    CustomerRecurringCredit,
    ObservedEvent,
)
from services.events.state import (
    Applied,
    CustomerState,
    DayFigures,
    Holding,
    RecurringCredit,
)
from shared.db import upsert


async def lock_customer(session: AsyncSession, customer_id: uuid.UUID) -> None:
    """Serialise work on one customer until the transaction ends. A customer's events come on
    several topics (transactions, contacts, profile changes) and are handled concurrently;
    without this, two handlers could each load the state and the second save would undo the
    first's change."""
    key = int.from_bytes(customer_id.bytes[:8], "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(key)))


async def load_state(
    session: AsyncSession, customer_id: uuid.UUID, *, since: date
) -> CustomerState:
    state = CustomerState(str(customer_id))
    profile = await session.get(CustomerProfile, customer_id)
    if profile is not None:
        state.value_tier, state.manager_id = profile.value_tier, profile.manager_id
        state.consent, state.preferred_channel = dict(profile.consent), profile.preferred_channel
        state.birth_month_day, state.status = profile.birth_month_day, profile.status
        state.last_activity_at = profile.last_activity_at
        state.open_complaints = profile.open_complaints
    days = await session.scalars(
        select(CustomerDay).where(CustomerDay.customer_id == customer_id, CustomerDay.day >= since)
    )
    for row in days:
        state.days[row.day] = DayFigures(
            row.money_in, row.money_out, row.count_in, row.count_out, row.max_in, row.max_out,
            row.contacts, row.closing_balance,
        )  # fmt: skip
    # The balance before the window began, so "N days ago" has a baseline on quiet accounts.
    before = await session.scalar(
        select(CustomerDay)
        .where(
            CustomerDay.customer_id == customer_id,
            CustomerDay.day < since,
            CustomerDay.closing_balance.is_not(None),
        )
        .order_by(CustomerDay.day.desc())
        .limit(1)
    )
    if before is not None:
        state.days[before.day] = DayFigures(closing_balance=before.closing_balance)
    for holding in await session.scalars(
        select(CustomerHolding).where(CustomerHolding.customer_id == customer_id)
    ):
        state.holdings[holding.account_number] = Holding(
            holding.product_type, holding.balance, holding.maturity_date, holding.open
        )
    for credit in await session.scalars(
        select(CustomerRecurringCredit).where(CustomerRecurringCredit.customer_id == customer_id)
    ):
        state.recurring[credit.source] = RecurringCredit(credit.last_month, credit.streak)
    return state


async def save_state(session: AsyncSession, state: CustomerState, applied: Applied) -> None:
    """Write back what ``applied`` says the event changed."""
    customer_id = uuid.UUID(state.customer_id)
    await upsert(
        session, CustomerProfile,
        {"customer_id": customer_id, "value_tier": state.value_tier,
         "manager_id": state.manager_id, "consent": state.consent,
         "preferred_channel": state.preferred_channel, "birth_month_day": state.birth_month_day,
         "status": state.status, "last_activity_at": state.last_activity_at,
         "open_complaints": state.open_complaints},
        key="customer_id",
    )  # fmt: skip
    if applied.day is not None:
        figures = state.days[applied.day]
        await _upsert_day(session, customer_id, applied.day, figures)
    if applied.account is not None:
        holding = state.holdings[applied.account]
        await _upsert_holding(session, customer_id, applied.account, holding)
    if applied.recurring_source is not None:
        credit = state.recurring[applied.recurring_source]
        statement = insert(CustomerRecurringCredit).values(
            customer_id=customer_id, source=applied.recurring_source,
            last_month=credit.last_month, streak=credit.streak,
        )  # fmt: skip
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["customer_id", "source"],
                set_={"last_month": credit.last_month, "streak": credit.streak},
            )
        )


async def _upsert_day(
    session: AsyncSession, customer_id: uuid.UUID, day: date, figures: DayFigures
) -> None:
    values = {
        "money_in": figures.money_in, "money_out": figures.money_out,
        "count_in": figures.count_in, "count_out": figures.count_out,
        "max_in": figures.max_in, "max_out": figures.max_out,
        "contacts": figures.contacts, "closing_balance": figures.closing_balance,
    }  # fmt: skip
    statement = insert(CustomerDay).values(customer_id=customer_id, day=day, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["customer_id", "day"], set_=values)
    )


async def _upsert_holding(
    session: AsyncSession, customer_id: uuid.UUID, account: str, holding: Holding
) -> None:
    values = {
        "product_type": holding.product_type, "balance": holding.balance,
        "maturity_date": holding.maturity_date, "open": holding.open,
    }  # fmt: skip
    statement = insert(CustomerHolding).values(
        customer_id=customer_id, account_number=account, **values
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["customer_id", "account_number"], set_=values
        )
    )


async def observe(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(insert(ObservedEvent).values(**row).on_conflict_do_nothing())


async def history(
    session: AsyncSession, start: datetime, end: datetime
) -> AsyncIterator[ObservedEvent]:
    """The consumed events of a period in the order they happened, streamed."""
    statement = (
        select(ObservedEvent)
        .where(ObservedEvent.occurred_at >= start, ObservedEvent.occurred_at < end)
        .order_by(ObservedEvent.occurred_at, ObservedEvent.event_id)
        .execution_options(yield_per=2000)
    )
    async for row in await session.stream_scalars(statement):
        yield row


async def forget_history_before(session: AsyncSession, cutoff: datetime) -> None:
    await session.execute(delete(ObservedEvent).where(ObservedEvent.occurred_at < cutoff))


async def birthday_customers(session: AsyncSession, month_days: Sequence[str]) -> list[uuid.UUID]:
    statement = select(CustomerProfile.customer_id).where(
        CustomerProfile.birth_month_day.in_(month_days), CustomerProfile.status == "active"
    )
    return list(await session.scalars(statement))


async def maturing_customers(
    session: AsyncSession, first: date, last: date, product_type: str
) -> list[uuid.UUID]:
    statement = (
        select(CustomerHolding.customer_id)
        .where(
            CustomerHolding.maturity_date.between(first, last),
            CustomerHolding.product_type == product_type,
            CustomerHolding.open.is_(True),
        )
        .distinct()
    )
    return list(await session.scalars(statement))


async def idle_customers(session: AsyncSession, idle_since: datetime) -> list[uuid.UUID]:
    statement = select(CustomerProfile.customer_id).where(
        CustomerProfile.last_activity_at < idle_since, CustomerProfile.status == "active"
    )
    return list(await session.scalars(statement))
