"""Queries of share of wallet: declared holdings, and money that left for other banks."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.wallet.models import ExternalHolding

# Money that left for another bank: a transfer out naming the receiving bank (the feed's
# ``counterparty_bank``), as the detector's "transfer to another bank" rule reads it. A
# reversed transfer never left. Written for a `transactions t` in the statement around it.
TO_OTHER_BANKS = (
    "t.direction = 'debit' AND t.kind = 'transfer_out'"
    " AND coalesce(t.counterparty_bank, '') <> '' AND t.reversal_id IS NULL"
)


async def holdings_of(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[ExternalHolding]:
    """Most recently declared first."""
    statement = (
        select(ExternalHolding)
        .where(ExternalHolding.customer_id == customer_id)
        .order_by(ExternalHolding.declared_on.desc(), ExternalHolding.recorded_at.desc())
    )
    return (await session.scalars(statement)).all()


async def holding(
    session: AsyncSession, customer_id: uuid.UUID, holding_id: uuid.UUID, *, for_update: bool
) -> ExternalHolding | None:
    statement = select(ExternalHolding).where(
        ExternalHolding.id == holding_id, ExternalHolding.customer_id == customer_id
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def remove_holding(session: AsyncSession, holding: ExternalHolding) -> None:
    await session.delete(holding)


async def remove_all_holdings(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await session.execute(delete(ExternalHolding).where(ExternalHolding.customer_id == customer_id))


async def outflows_to_other_banks(
    session: AsyncSession, customer_id: uuid.UUID, *, start: datetime, end: datetime
) -> dict[str, tuple[Decimal, int]]:
    """Currency → (amount, transfers) sent to other banks in [start, end)."""
    statement = text(
        "SELECT t.currency, sum(t.amount) AS amount, count(*) AS transfers"  # nosec B608
        " FROM transactions t WHERE t.customer_id = :customer_id"
        " AND t.booked_at >= :start AND t.booked_at < :end AND "
        + TO_OTHER_BANKS
        + " GROUP BY t.currency"
    )
    rows = await session.execute(
        statement, {"customer_id": customer_id, "start": start, "end": end}
    )
    return {row.currency: (row.amount, row.transfers) for row in rows}
