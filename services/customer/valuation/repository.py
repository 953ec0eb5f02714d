"""Queries of valuation: the customers to value (locked), their money facts, the segment
history they add to, and the batch's pages of active customers."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import Customer, Direction, PostedTransaction, SegmentChange


async def customers_for_update(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID]
) -> list[Customer]:
    """The customers, locked (see ``customers_repository.lock_customers``)."""
    statement = (
        select(Customer)
        .where(Customer.id.in_(customer_ids))
        .order_by(Customer.id)
        .with_for_update(key_share=True)
    )
    return list((await session.scalars(statement)).all())


# Built once: the consumer's runs execute these for a hundred customers several times a second.
# The customers travel as one array parameter, not an IN list expanded value by value.
_IDS = bindparam("customer_ids", type_=ARRAY(UUID(as_uuid=True)))


@dataclass(frozen=True, slots=True)
class CustomerStanding:
    """A customer as valuation reads them, a plain row: their segments as they stand and what
    deciding them again reads of the customer."""

    id: uuid.UUID
    status: str
    valued_at: datetime | None
    created_at: datetime
    last_activity_at: datetime | None
    profile: dict[str, Any]
    value_tier: str
    loyalty: str | None
    usage_density: str | None
    lifecycle_stage: str | None


_STANDINGS = select(
    Customer.id,
    Customer.status,
    Customer.valued_at,
    Customer.created_at,
    Customer.last_activity_at,
    Customer.profile,
    Customer.value_tier,
    Customer.loyalty,
    Customer.usage_density,
    Customer.lifecycle_stage,
).where(Customer.id == any_(_IDS))


async def standings(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID]
) -> list[CustomerStanding]:
    """The customers as they stand, unlocked: the caller holds their locks already."""
    if not customer_ids:
        return []
    rows = await session.execute(_STANDINGS, {"customer_ids": list(customer_ids)})
    return [CustomerStanding(*row) for row in rows]


async def mark_valued(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, at: datetime
) -> None:
    """Record that the customers were valued at ``at``, in one statement."""
    if customer_ids:
        await session.execute(
            text("UPDATE customers SET valued_at = :at WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"at": at, "ids": list(customer_ids)},
        )


@dataclass(frozen=True)
class MoneyFacts:
    """Money in over the last 90 days and the 90 before, per currency."""

    inflow_90d: dict[str, Decimal]
    inflow_previous_90d: dict[str, Decimal]
    transactions_90d: int


_NOW = bindparam("now", type_=DateTime(timezone=True))
_RECENT_START = bindparam("recent_start", type_=DateTime(timezone=True))
_PREVIOUS_START = bindparam("previous_start", type_=DateTime(timezone=True))
_t = PostedTransaction
_credit = _t.direction == Direction.CREDIT
_recent = _t.booked_at >= _RECENT_START
_MONEY_FACTS = (
    select(
        _t.customer_id,
        _t.currency,
        func.coalesce(func.sum(_t.amount).filter(_credit, _recent), 0).label("recent_in"),
        func.coalesce(func.sum(_t.amount).filter(_credit, ~_recent), 0).label("previous_in"),
        func.count().filter(_recent).label("recent_count"),
    )
    .where(
        _t.customer_id == any_(_IDS),
        _t.booked_at >= _PREVIOUS_START,
        _t.booked_at <= _NOW,
        # A reversed transaction never happened, as far as the customer's value goes.
        _t.reversed_at.is_(None),
    )
    .group_by(_t.customer_id, _t.currency)
)


async def money_facts(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, now: datetime
) -> dict[uuid.UUID, MoneyFacts]:
    """Each customer's money facts, in one statement; a customer with no transaction in the
    last 180 days has none in the answer."""
    if not customer_ids:
        return {}
    flow_rows = await session.execute(
        _MONEY_FACTS,
        {
            "customer_ids": list(customer_ids),
            "now": now,
            "recent_start": now - timedelta(days=90),
            "previous_start": now - timedelta(days=180),
        },
    )
    inflow: dict[uuid.UUID, dict[str, Decimal]] = {}
    previous: dict[uuid.UUID, dict[str, Decimal]] = {}
    count: dict[uuid.UUID, int] = {}
    for row in flow_rows.all():
        inflow.setdefault(row.customer_id, {})[row.currency] = row.recent_in
        previous.setdefault(row.customer_id, {})[row.currency] = row.previous_in
        count[row.customer_id] = count.get(row.customer_id, 0) + row.recent_count
    return {c: MoneyFacts(inflow[c], previous[c], count[c]) for c in inflow}


async def add_segment_change(session: AsyncSession, change: SegmentChange) -> None:
    session.add(change)


async def active_customer_ids(
    session: AsyncSession, *, after: uuid.UUID | None, limit: int
) -> list[uuid.UUID]:
    statement = select(Customer.id).where(Customer.status == "active").order_by(Customer.id)
    if after is not None:
        statement = statement.where(Customer.id > after)
    return list((await session.scalars(statement.limit(limit))).all())
