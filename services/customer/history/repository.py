"""Queries of a customer's past: each facet's state at a moment and its changes since, the
balances then, and erasure of what the history holds of the person."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.history.models import CustomerHistory, CustomerHistoryStart, Facet
from services.customer.models import (
    Customer,
    Direction,
    Interaction,
    PostedTransaction,
    ProductType,
    SegmentChange,
)


@dataclass(frozen=True)
class FacetState:
    facet: Facet
    valid_from: datetime
    snapshot: Any


@dataclass(frozen=True)
class HistoryAround:
    """Each facet's state in force at the moment and every state after it, oldest first."""

    then: dict[Facet, FacetState]
    since: list[FacetState]
    complete_from: datetime  # the history began then: earlier, only that state is known
    last_activity_at: datetime | None  # the latest posting or interaction not after the moment


def _state(row: CustomerHistory) -> FacetState:
    return FacetState(facet=Facet(row.facet), valid_from=row.valid_from, snapshot=row.snapshot)


async def history_around(
    session: AsyncSession, customer_id: uuid.UUID, moment: datetime
) -> HistoryAround:
    h = CustomerHistory
    then = (
        select(h)
        .where(h.customer_id == customer_id, h.valid_from <= moment)
        .order_by(h.facet, h.valid_from.desc())
        .ext(distinct_on(h.facet))
    )
    since = (
        select(h)
        .where(h.customer_id == customer_id, h.valid_from > moment)
        .order_by(h.valid_from, h.facet)
    )
    t, i = PostedTransaction, Interaction
    facts = select(
        select(func.min(CustomerHistoryStart.started_at)).scalar_subquery(),
        func.greatest(
            select(func.max(t.booked_at))
            .where(t.customer_id == customer_id, t.booked_at <= moment)
            .scalar_subquery(),
            select(func.max(i.occurred_at))
            .where(i.customer_id == customer_id, i.occurred_at <= moment)
            .scalar_subquery(),
        ),
    )
    complete_from, last_activity_at = (await session.execute(facts)).one()
    return HistoryAround(
        then={state.facet: state for state in map(_state, (await session.scalars(then)).all())},
        since=[_state(row) for row in (await session.scalars(since)).all()],
        complete_from=complete_from,
        last_activity_at=last_activity_at,
    )


# Per account: the balance after its latest posting not after the moment (the opening balance
# before any), moved back by the reversals made since that posting and not after the moment
# (a reversal moves the balance without a posting of its own). The postings are found by the
# customer's (customer_id, booked_at) index, read backwards from the moment.
_BALANCES = text(
    "SELECT a.account_number, coalesce(last.balance_after, a.opening_balance)"
    "  - coalesce(reversed.change, 0) AS balance"
    " FROM accounts a"
    " LEFT JOIN LATERAL (SELECT t.balance_after, t.booked_at FROM transactions t"
    "  WHERE t.customer_id = a.customer_id AND t.account_number = a.account_number"
    "  AND t.booked_at <= :moment ORDER BY t.booked_at DESC, t.received_at DESC LIMIT 1) last"
    "  ON true"
    " LEFT JOIN LATERAL (SELECT sum(CASE WHEN t.direction = :credit THEN t.amount"
    "  ELSE -t.amount END * CASE WHEN a.product_type = :loan THEN -1 ELSE 1 END) AS change"
    "  FROM transactions t WHERE t.customer_id = a.customer_id"
    "  AND t.account_number = a.account_number AND t.reversed_at <= :moment"
    "  AND t.reversed_at > coalesce(last.booked_at, '-infinity')) reversed ON true"
    " WHERE a.customer_id = :customer_id"
)


async def balances_as_of(
    session: AsyncSession, customer_id: uuid.UUID, moment: datetime
) -> dict[str, Decimal]:
    """Account number → balance at the moment, for every account the customer holds now."""
    rows = await session.execute(
        _BALANCES,
        {
            "customer_id": customer_id,
            "moment": moment,
            "credit": Direction.CREDIT,
            "loan": ProductType.LOAN,
        },
    )
    return {row.account_number: row.balance for row in rows}


async def segment_changes_since(
    session: AsyncSession, customer_id: uuid.UUID, moment: datetime
) -> list[SegmentChange]:
    statement = (
        select(SegmentChange)
        .where(SegmentChange.customer_id == customer_id, SegmentChange.effective_at > moment)
        .order_by(SegmentChange.effective_at, SegmentChange.id)
    )
    return list((await session.scalars(statement)).all())


async def history_of(session: AsyncSession, customer_id: uuid.UUID) -> list[CustomerHistory]:
    """Every past state of every facet, oldest first (an access request's copy)."""
    h = CustomerHistory
    statement = select(h).where(h.customer_id == customer_id).order_by(h.valid_from, h.facet)
    return list((await session.scalars(statement)).all())


async def erase_history(session: AsyncSession, customer_id: uuid.UUID, *, erased: str) -> None:
    """Every past state of the customer's own row takes the erased name, profile and consent
    (the customer's row must be erased, and flushed, before): the history keeps dates, status,
    branch and manager, as the bank's other records do. A group name the erasure cleared
    (``erased``) is cleared from the group's past states too."""
    c, h = Customer, CustomerHistory
    as_erased = func.jsonb_build_object("name", c.name, "profile", c.profile, "consent", c.consent)
    await session.execute(
        update(h)
        .where(h.customer_id == customer_id, h.facet == Facet.CUSTOMER, c.id == h.customer_id)
        .values(snapshot=h.snapshot.op("||")(as_erased))
    )
    await _erase_group_names(session, customer_id, erased=erased)


# A group's name the erasure cleared (see ``privacy.repository.clear_group_names``) leaves
# every past state of that group too, whichever member's history holds it.
_GROUP_NAMES_CLEARED = text(
    "UPDATE customer_history h SET snapshot = jsonb_set(h.snapshot, '{name}', to_jsonb(g.name))"
    " FROM customer_groups g"
    " WHERE h.facet = :facet AND jsonb_typeof(h.snapshot) = 'object'"
    " AND g.id = CAST(h.snapshot ->> 'group_id' AS uuid)"
    " AND g.id IN (SELECT m.group_id FROM group_members m WHERE m.customer_id = :customer_id)"
    " AND h.snapshot ->> 'name' IS DISTINCT FROM g.name AND g.name = :erased"
)


async def _erase_group_names(session: AsyncSession, customer_id: uuid.UUID, *, erased: str) -> None:
    await session.execute(
        _GROUP_NAMES_CLEARED,
        {"facet": Facet.GROUP.value, "customer_id": customer_id, "erased": erased},
    )
