"""Queries of the customer's timeline of contacts."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import Interaction


async def add_interaction(session: AsyncSession, row: dict[str, Any]) -> uuid.UUID | None:
    """Insert unless the channel's id is known; returns the new id (None for a repeat)."""
    statement = (
        insert(Interaction)
        .values(**row)
        .on_conflict_do_nothing(index_elements=[Interaction.external_id])
        .returning(Interaction.id)
    )
    return (await session.scalars(statement)).one_or_none()


async def interaction_by_external_id(session: AsyncSession, external_id: str) -> Interaction:
    statement = select(Interaction).where(Interaction.external_id == external_id)
    return (await session.scalars(statement)).one()
