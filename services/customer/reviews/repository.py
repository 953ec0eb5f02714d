"""Queries of the reviews a tier policy asks for."""

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import CustomerReview, SegmentChange


async def tier_since(session: AsyncSession, customer_id: uuid.UUID) -> datetime | None:
    """When the customer's tier last changed (registration decides the first)."""
    statement = select(func.max(SegmentChange.effective_at)).where(
        SegmentChange.customer_id == customer_id, SegmentChange.dimension == "value_tier"
    )
    return (await session.execute(statement)).scalar()


async def reviews_of(
    session: AsyncSession, customer_id: uuid.UUID, *, limit: int
) -> Sequence[CustomerReview]:
    """Newest first."""
    statement = (
        select(CustomerReview)
        .where(CustomerReview.customer_id == customer_id)
        .order_by(CustomerReview.reviewed_at.desc(), CustomerReview.id)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()
