"""Queries of the detector's per-customer state and of the history it consumed."""

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import any_, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID, distinct_on
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
from shared.db import insert_new, upsert


async def lock_customers(session: AsyncSession, customer_ids: Sequence[uuid.UUID]) -> None:
    """Serialise work on these customers until the transaction ends. A customer's events come
    on several topics (transactions, contacts, profile changes) and are handled concurrently;
    without this, two handlers could each load the state and the second save would undo the
    first's change. Taken in key order, so two batches never wait on each other in a ring."""
    keys = sorted({int.from_bytes(c.bytes[:8], "big", signed=True) for c in customer_ids})
    if keys:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
            {"keys": keys},
        )


async def load_states(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, since: date
) -> dict[uuid.UUID, CustomerState]:
    """The customers' states in five queries, whatever their number. Columns, not ORM
    objects: the rows are read once into the state and never changed through the session, and
    building entities was a fair share of the consumer's time."""
    states = {c: CustomerState(str(c)) for c in customer_ids}
    # One array parameter rather than an IN list that SQLAlchemy expands, value by value, on
    # every execution.
    ids = bindparam("customer_ids", list(customer_ids), type_=ARRAY(UUID(as_uuid=True)))
    p = CustomerProfile
    profiles = select(
        p.customer_id, p.value_tier, p.manager_id, p.consent, p.preferred_channel,
        p.birth_month_day, p.status, p.last_activity_at, p.open_complaints,
    ).where(p.customer_id == any_(ids))  # fmt: skip
    for row in await session.execute(profiles):
        state = states[row.customer_id]
        state.value_tier, state.manager_id = row.value_tier, row.manager_id
        state.consent, state.preferred_channel = dict(row.consent), row.preferred_channel
        state.birth_month_day, state.status = row.birth_month_day, row.status
        state.last_activity_at = row.last_activity_at
        state.open_complaints = row.open_complaints
    d = CustomerDay
    days = select(
        d.customer_id, d.day, d.money_in, d.money_out, d.count_in, d.count_out, d.max_in,
        d.max_out, d.contacts, d.closing_balance,
    ).where(d.customer_id == any_(ids), d.day >= since)  # fmt: skip
    for day_row in await session.execute(days):
        states[day_row.customer_id].days[day_row.day] = DayFigures(
            day_row.money_in, day_row.money_out, day_row.count_in, day_row.count_out,
            day_row.max_in, day_row.max_out, day_row.contacts, day_row.closing_balance,
        )  # fmt: skip
    # Each customer's last balance before the window, so "N days ago" has a baseline on a
    # quiet account.
    before = (
        select(d.customer_id, d.day, d.closing_balance)
        .where(d.customer_id == any_(ids), d.day < since, d.closing_balance.is_not(None))
        .order_by(d.customer_id, d.day.desc())
        .ext(distinct_on(d.customer_id))
    )
    for customer_id, day, balance in await session.execute(before):
        states[customer_id].days[day] = DayFigures(closing_balance=balance)
    h = CustomerHolding
    holdings = select(
        h.customer_id, h.account_number, h.product_type, h.balance, h.maturity_date, h.open
    ).where(h.customer_id == any_(ids))
    for held in await session.execute(holdings):
        states[held.customer_id].holdings[held.account_number] = Holding(
            held.product_type, held.balance, held.maturity_date, held.open
        )
    r = CustomerRecurringCredit
    credits = select(r.customer_id, r.source, r.last_month, r.streak).where(
        r.customer_id == any_(ids)
    )
    for customer_id, source, last_month, streak in await session.execute(credits):
        states[customer_id].recurring[source] = RecurringCredit(last_month, streak)
    return states


@dataclass
class Changes:
    """What a run of events changed, to be written back in one statement per table."""

    profiles: set[uuid.UUID] = field(default_factory=set)
    days: set[tuple[uuid.UUID, date]] = field(default_factory=set)
    holdings: set[tuple[uuid.UUID, str]] = field(default_factory=set)
    recurring: set[tuple[uuid.UUID, str]] = field(default_factory=set)

    def note(self, customer_id: uuid.UUID, applied: Applied) -> None:
        self.profiles.add(customer_id)
        if applied.day is not None:
            self.days.add((customer_id, applied.day))
        if applied.account is not None:
            self.holdings.add((customer_id, applied.account))
        if applied.recurring_source is not None:
            self.recurring.add((customer_id, applied.recurring_source))


async def save_states(
    session: AsyncSession, states: dict[uuid.UUID, CustomerState], changes: Changes
) -> None:
    profiles = [
        {"customer_id": c, "value_tier": s.value_tier, "manager_id": s.manager_id,
         "consent": s.consent, "preferred_channel": s.preferred_channel,
         "birth_month_day": s.birth_month_day, "status": s.status,
         "last_activity_at": s.last_activity_at, "open_complaints": s.open_complaints}
        for c in sorted(changes.profiles)
        for s in (states[c],)
    ]  # fmt: skip
    days = [
        {"customer_id": c, "day": d, **_day_values(states[c].days[d])}
        for c, d in sorted(changes.days)
    ]
    holdings = [
        {"customer_id": c, "account_number": a, "product_type": h.product_type,
         "balance": h.balance, "maturity_date": h.maturity_date, "open": h.open}
        for c, a in sorted(changes.holdings)
        for h in (states[c].holdings[a],)
    ]  # fmt: skip
    recurring = [
        {"customer_id": c, "source": k, "last_month": r.last_month, "streak": r.streak}
        for c, k in sorted(changes.recurring)
        for r in (states[c].recurring[k],)
    ]
    await upsert(session, CustomerProfile, profiles, key="customer_id")
    await upsert(session, CustomerDay, days, key=("customer_id", "day"))
    await upsert(session, CustomerHolding, holdings, key=("customer_id", "account_number"))
    await upsert(session, CustomerRecurringCredit, recurring, key=("customer_id", "source"))


def _day_values(figures: DayFigures) -> dict[str, Any]:
    return {
        "money_in": figures.money_in, "money_out": figures.money_out,
        "count_in": figures.count_in, "count_out": figures.count_out,
        "max_in": figures.max_in, "max_out": figures.max_out,
        "contacts": figures.contacts, "closing_balance": figures.closing_balance,
    }  # fmt: skip


async def observe(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await insert_new(session, ObservedEvent, rows)


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


async def overwrite_observed_fields(
    session: AsyncSession, customer_id: uuid.UUID, event_name: str, fields: dict[str, Any]
) -> None:
    """Overwrite these payload fields of the customer's consumed events of that name."""
    await session.execute(
        update(ObservedEvent)
        .where(ObservedEvent.customer_id == customer_id, ObservedEvent.event_name == event_name)
        .values(payload=ObservedEvent.payload.op("||")(bindparam("fields", fields, type_=JSONB)))
    )


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
