"""Queries of the projections kept from other services' events."""

import uuid
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import OpenComplaint, OpenOpportunity
from shared.bulk import upsert


async def upsert_open_complaint(session: AsyncSession, row: dict[str, Any]) -> None:
    await upsert(session, OpenComplaint, row, key="complaint_id")


async def update_open_complaint(
    session: AsyncSession, complaint_id: uuid.UUID, **values: Any
) -> None:
    await session.execute(
        update(OpenComplaint).where(OpenComplaint.complaint_id == complaint_id).values(**values)
    )


async def remove_open_complaint(session: AsyncSession, complaint_id: uuid.UUID) -> None:
    await session.execute(delete(OpenComplaint).where(OpenComplaint.complaint_id == complaint_id))


async def upsert_open_opportunity(session: AsyncSession, row: dict[str, Any]) -> None:
    await upsert(session, OpenOpportunity, row, key="opportunity_id")


async def update_open_opportunity(
    session: AsyncSession, opportunity_id: uuid.UUID, **values: Any
) -> None:
    await session.execute(
        update(OpenOpportunity)
        .where(OpenOpportunity.opportunity_id == opportunity_id)
        .values(**values)
    )


async def remove_open_opportunity(session: AsyncSession, opportunity_id: uuid.UUID) -> None:
    await session.execute(
        delete(OpenOpportunity).where(OpenOpportunity.opportunity_id == opportunity_id)
    )
