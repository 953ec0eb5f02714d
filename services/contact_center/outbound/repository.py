"""Every query of the outbound call list and the do-not-call register."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.models import DoNotCall, KnownCustomer, OutboundEntry, OutboundStatus
from shared.bulk import upsert


async def add_outbound_entry(session: AsyncSession, values: dict[str, Any]) -> None:
    # An opportunity redelivered is the same entry.
    statement = insert(OutboundEntry).values(**values)
    await session.execute(statement.on_conflict_do_nothing(index_elements=["opportunity_id"]))


async def withdraw_outbound_entry(
    session: AsyncSession, opportunity_id: uuid.UUID, *, reason: str
) -> None:
    await _withdraw_pending(session, OutboundEntry.opportunity_id == opportunity_id, reason)


async def withdraw_entries_of(
    session: AsyncSession, customer_id: uuid.UUID, *, reason: str
) -> None:
    await _withdraw_pending(session, OutboundEntry.customer_id == customer_id, reason)


async def _withdraw_pending(session: AsyncSession, which: ColumnElement[bool], reason: str) -> None:
    await session.execute(
        update(OutboundEntry)
        .where(which, OutboundEntry.status == OutboundStatus.PENDING)
        .values(status=OutboundStatus.WITHDRAWN, withdrawn_reason=reason)
    )


async def outbound_entry(
    session: AsyncSession, entry_id: uuid.UUID, *, for_update: bool = False
) -> OutboundEntry | None:
    statement = select(OutboundEntry).where(OutboundEntry.id == entry_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement.execution_options(populate_existing=True))).first()


async def callable_entries(
    session: AsyncSession, *, now: datetime, max_attempts: int, consent_channel: str, limit: int
) -> list[OutboundEntry]:
    """Pending entries that every calling rule but the hour of day allows now, most urgent
    first: the opportunity's priority, then the earliest due."""
    statement = (
        select(OutboundEntry)
        .join(KnownCustomer, KnownCustomer.customer_id == OutboundEntry.customer_id)
        .outerjoin(DoNotCall, DoNotCall.customer_id == OutboundEntry.customer_id)
        .where(
            OutboundEntry.status == OutboundStatus.PENDING,
            OutboundEntry.expires_at > now,
            OutboundEntry.attempts < max_attempts,
            (OutboundEntry.next_attempt_at.is_(None)) | (OutboundEntry.next_attempt_at <= now),
            KnownCustomer.status != "closed",
            KnownCustomer.consent[consent_channel].as_boolean().is_(True),
            DoNotCall.customer_id.is_(None),
        )
        .order_by(OutboundEntry.priority.desc(), OutboundEntry.due_at, OutboundEntry.id)
        .limit(limit)
    )
    return list(await session.scalars(statement))


async def entries(
    session: AsyncSession, *, status: str | None, customer_id: uuid.UUID | None, limit: int
) -> list[OutboundEntry]:
    statement = select(OutboundEntry).order_by(
        OutboundEntry.priority.desc(), OutboundEntry.due_at, OutboundEntry.id
    )
    if status is not None:
        statement = statement.where(OutboundEntry.status == status)
    if customer_id is not None:
        statement = statement.where(OutboundEntry.customer_id == customer_id)
    return list(await session.scalars(statement.limit(limit)))


async def do_not_call(session: AsyncSession, customer_id: uuid.UUID) -> DoNotCall | None:
    return await session.get(DoNotCall, customer_id)


async def add_do_not_call(session: AsyncSession, values: dict[str, Any]) -> None:
    await upsert(session, DoNotCall, values, key="customer_id")


async def keep_on_do_not_call(session: AsyncSession, values: dict[str, Any]) -> None:
    """As ``add_do_not_call``, but a listing that exists keeps the date it began."""
    await upsert(session, DoNotCall, values, key="customer_id", keep=["added_at"])


async def remove_do_not_call(session: AsyncSession, customer_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(DoNotCall)
        .where(DoNotCall.customer_id == customer_id)
        .returning(DoNotCall.customer_id)
    )
    return result.first() is not None
