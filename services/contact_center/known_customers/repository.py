"""Every query of the projection of the customers: the customers and their identifier
digests."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.contact_center.models import CustomerIdentifier, KnownCustomer
from shared.bulk import upsert


async def known_customer(session: AsyncSession, customer_id: uuid.UUID) -> KnownCustomer | None:
    return await session.get(KnownCustomer, customer_id)


async def save_known_customer(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert, or overwrite only the columns ``values`` names; an insert takes the column
    defaults for the rest (no consent, active, no policy yet)."""
    await upsert(session, KnownCustomer, values, key="customer_id")


async def replace_identifiers(
    session: AsyncSession, customer_id: uuid.UUID, digests: Sequence[tuple[str, str]]
) -> None:
    await session.execute(
        delete(CustomerIdentifier).where(CustomerIdentifier.customer_id == customer_id)
    )
    if digests:
        rows = [{"kind": k, "digest": d, "customer_id": customer_id} for k, d in set(digests)]
        await session.execute(insert(CustomerIdentifier).on_conflict_do_nothing(), rows)


async def customers_with(session: AsyncSession, kind: str, digest: str) -> list[uuid.UUID]:
    statement = select(CustomerIdentifier.customer_id).where(
        CustomerIdentifier.kind == kind, CustomerIdentifier.digest == digest
    )
    return list(await session.scalars(statement))
