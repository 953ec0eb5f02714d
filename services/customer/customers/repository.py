"""Queries of customers, their lookup identifiers, and searches over them."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import Customer, CustomerIdentifier, IdentifierKind


async def get_customer(
    session: AsyncSession, customer_id: uuid.UUID, *, for_update: bool = False
) -> Customer | None:
    statement = select(Customer).where(Customer.id == customer_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def customers_by_identifier(
    session: AsyncSession, kind: IdentifierKind, value: str, *, limit: int = 10
) -> Sequence[Customer]:
    statement = (
        select(Customer)
        .join(CustomerIdentifier, CustomerIdentifier.customer_id == Customer.id)
        .where(CustomerIdentifier.kind == kind, CustomerIdentifier.value == value)
        .order_by(Customer.created_at)
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def identifier_owner(
    session: AsyncSession, kind: IdentifierKind, value: str
) -> uuid.UUID | None:
    statement = select(CustomerIdentifier.customer_id).where(
        CustomerIdentifier.kind == kind, CustomerIdentifier.value == value
    )
    return (await session.scalars(statement.limit(1))).one_or_none()


# A customer's own identifier again is nothing to do; another customer's document is a unique
# violation the caller answers (revision 0022), never a row silently left out.
_OWN_IDENTIFIER = ("customer_id", "kind", "value")


async def replace_identifiers(
    session: AsyncSession,
    customer_id: uuid.UUID,
    kind: IdentifierKind,
    values: Iterable[str],
) -> None:
    await session.execute(
        delete(CustomerIdentifier).where(
            CustomerIdentifier.customer_id == customer_id, CustomerIdentifier.kind == kind
        )
    )
    rows = [{"customer_id": customer_id, "kind": kind, "value": v} for v in dict.fromkeys(values)]
    if rows:
        await session.execute(
            insert(CustomerIdentifier).on_conflict_do_nothing(index_elements=_OWN_IDENTIFIER),
            rows,
        )


async def add_identifier(
    session: AsyncSession, customer_id: uuid.UUID, kind: IdentifierKind, value: str
) -> None:
    await session.execute(
        insert(CustomerIdentifier)
        .values(customer_id=customer_id, kind=kind, value=value)
        .on_conflict_do_nothing(index_elements=_OWN_IDENTIFIER)
    )


async def identifiers_of(
    session: AsyncSession, customer_id: uuid.UUID
) -> list[tuple[IdentifierKind, str]]:
    result = await session.execute(
        select(CustomerIdentifier.kind, CustomerIdentifier.value)
        .where(CustomerIdentifier.customer_id == customer_id)
        .order_by(CustomerIdentifier.id)
    )
    return [(IdentifierKind(kind), value) for kind, value in result.all()]


@dataclass(frozen=True)
class CustomerFilter:
    name: str | None = None
    value_tier: str | None = None
    manager_id: uuid.UUID | None = None
    without_manager: bool = False
    identifier: tuple[IdentifierKind, str] | None = None
    # Object-level limits of the caller (services.customer.access), not search terms: a
    # portfolio or a branch the caller may not look beyond.
    portfolio_of: uuid.UUID | None = None
    branch_code: str | None = None


@dataclass(frozen=True)
class Custody:
    """Whose a customer (or a potential one) is: the manager and the branch that look after
    them."""

    manager_id: uuid.UUID | None
    branch_code: str | None


async def custody_of_customer(session: AsyncSession, customer_id: uuid.UUID) -> Custody | None:
    row = (
        await session.execute(
            select(Customer.manager_id, Customer.branch_code).where(Customer.id == customer_id)
        )
    ).one_or_none()
    return Custody(row.manager_id, row.branch_code) if row else None


async def search_customers(
    session: AsyncSession,
    criteria: CustomerFilter,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Customer]:
    """Keyset pagination on (created_at, id): stable under inserts, no OFFSET scans."""
    statement = select(Customer)
    if criteria.name:
        escaped = criteria.name.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        statement = statement.where(Customer.name.ilike(f"%{escaped}%"))
    if criteria.value_tier:
        statement = statement.where(Customer.value_tier == criteria.value_tier)
    if criteria.manager_id:
        statement = statement.where(Customer.manager_id == criteria.manager_id)
    if criteria.without_manager:
        statement = statement.where(Customer.manager_id.is_(None))
    if criteria.portfolio_of:
        statement = statement.where(Customer.manager_id == criteria.portfolio_of)
    if criteria.branch_code:
        statement = statement.where(Customer.branch_code == criteria.branch_code)
    if criteria.identifier:
        kind, value = criteria.identifier
        statement = statement.where(
            Customer.id.in_(
                select(CustomerIdentifier.customer_id).where(
                    CustomerIdentifier.kind == kind, CustomerIdentifier.value == value
                )
            )
        )
    if after is not None:
        created_at, last_id = after
        statement = statement.where(
            or_(
                Customer.created_at > created_at,
                and_(Customer.created_at == created_at, Customer.id > last_id),
            )
        )
    statement = statement.order_by(Customer.created_at, Customer.id).limit(limit)
    return (await session.scalars(statement)).all()


async def lock_customers(session: AsyncSession, customer_ids: list[uuid.UUID]) -> None:
    """Lock the customers' rows in id order. Everything that locks several customers in one
    transaction (ingest, the consumer's runs) takes them in this order, so two such
    transactions never wait on each other in a ring. No-key: it still waits for ingest's lock
    (see ``accounts.ingest_repository``), but not for inserts that merely reference the
    customer."""
    await session.execute(
        text(
            "SELECT id FROM customers WHERE id = ANY(CAST(:ids AS uuid[]))"
            " ORDER BY id FOR NO KEY UPDATE"
        ),
        {"ids": sorted(customer_ids)},
    )
