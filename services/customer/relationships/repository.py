"""Queries of the ties between customers (each kept from both sides)."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import Relationship


async def add_relationship_pair(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    await session.execute(insert(Relationship).on_conflict_do_nothing(), list(rows))


async def relationships_of(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[Relationship]:
    statement = (
        select(Relationship)
        .where(Relationship.customer_id == customer_id)
        .order_by(Relationship.kind, Relationship.since)
    )
    return (await session.scalars(statement)).all()
