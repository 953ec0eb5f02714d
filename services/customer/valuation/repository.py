"""Queries of valuation: the customers to value (locked), their money facts, the segment
history they add to, and the batch's pages of active customers."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
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


@dataclass(frozen=True)
class MoneyFacts:
    """Money in over the last 90 days and the 90 before, per currency."""

    inflow_90d: dict[str, Decimal]
    inflow_previous_90d: dict[str, Decimal]
    transactions_90d: int


async def money_facts(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, now: datetime
) -> dict[uuid.UUID, MoneyFacts]:
    """Each customer's money facts, in one statement; a customer with no transaction in the
    last 180 days has none in the answer."""
    if not customer_ids:
        return {}
    recent_start, previous_start = now - timedelta(days=90), now - timedelta(days=180)
    credit = PostedTransaction.direction == Direction.CREDIT
    recent = PostedTransaction.booked_at >= recent_start
    flow_rows = await session.execute(
        select(
            PostedTransaction.customer_id,
            PostedTransaction.currency,
            func.coalesce(func.sum(PostedTransaction.amount).filter(credit, recent), 0).label(
                "recent_in"
            ),
            func.coalesce(func.sum(PostedTransaction.amount).filter(credit, ~recent), 0).label(
                "previous_in"
            ),
            func.count().filter(recent).label("recent_count"),
        )
        .where(
            PostedTransaction.customer_id.in_(customer_ids),
            PostedTransaction.booked_at >= previous_start,
            PostedTransaction.booked_at <= now,
            # A reversed transaction never happened, as far as the customer's value goes.
            PostedTransaction.reversed_at.is_(None),
        )
        .group_by(PostedTransaction.customer_id, PostedTransaction.currency)
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
