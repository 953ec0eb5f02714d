"""Queries of customer managers and their portfolios."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import Customer, CustomerStatus, Manager, UnservedCustomer


async def get_manager(
    session: AsyncSession, manager_id: uuid.UUID, *, for_update: bool = False
) -> Manager | None:
    return await session.get(Manager, manager_id, with_for_update=for_update)


async def portfolio_size(session: AsyncSession, manager_id: uuid.UUID) -> int:
    """The active customers the manager serves (as ``least_loaded_manager`` counts them)."""
    statement = select(func.count()).where(
        Customer.manager_id == manager_id, Customer.status == CustomerStatus.ACTIVE
    )
    return int(await session.scalar(statement) or 0)


async def manager_by_employee_number(session: AsyncSession, number: str) -> Manager | None:
    statement = select(Manager).where(Manager.employee_number == number)
    return (await session.scalars(statement)).one_or_none()


def _portfolio_sizes() -> Any:
    return (
        select(Customer.manager_id, func.count().label("customers"))
        .where(Customer.status == "active", Customer.manager_id.is_not(None))
        .group_by(Customer.manager_id)
        .subquery()
    )


async def least_loaded_manager(session: AsyncSession, branch_code: str | None) -> Manager | None:
    """The active manager with room left, the customer's branch first, then the one whose
    portfolio is least full for its capacity."""
    sizes = _portfolio_sizes()
    served = func.coalesce(sizes.c.customers, 0)
    statement = (
        select(Manager)
        .outerjoin(sizes, sizes.c.manager_id == Manager.id)
        .where(Manager.active.is_(True), served < Manager.capacity)
        .order_by(
            (Manager.branch_code == (branch_code or "")).desc(),
            (served * 1.0 / Manager.capacity).asc(),
            Manager.created_at,
        )
        .limit(1)
    )
    return (await session.scalars(statement)).one_or_none()


async def manager_workloads(
    session: AsyncSession, *, branch_code: str | None
) -> list[tuple[Manager, dict[str, int]]]:
    statement = (
        select(Manager, Customer.value_tier, func.count(Customer.id))
        .outerjoin(Customer, and_(Customer.manager_id == Manager.id, Customer.status == "active"))
        .group_by(Manager.id, Customer.value_tier)
        .order_by(Manager.branch_code, Manager.employee_number)
    )
    if branch_code:
        statement = statement.where(Manager.branch_code == branch_code)
    workloads: dict[uuid.UUID, tuple[Manager, dict[str, int]]] = {}
    for manager, tier, count in (await session.execute(statement)).all():
        entry = workloads.setdefault(manager.id, (manager, {}))
        if tier is not None:
            entry[1][tier] = count
    return list(workloads.values())


async def mark_unserved(
    session: AsyncSession, customer_id: uuid.UUID, *, since: datetime, reason: str
) -> bool:
    """True when the customer was not already unserved: the first time since has the say."""
    statement = (
        insert(UnservedCustomer)
        .values(customer_id=customer_id, since=since, reason=reason)
        .on_conflict_do_nothing(index_elements=[UnservedCustomer.customer_id])
        .returning(UnservedCustomer.customer_id)
    )
    return (await session.execute(statement)).first() is not None


async def mark_served(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await session.execute(
        delete(UnservedCustomer).where(UnservedCustomer.customer_id == customer_id)
    )


def _unserved(tiers: Sequence[str]) -> Any:
    """Active customers of the tiers that require a manager, without one, and since when."""
    return (
        select(Customer, UnservedCustomer.since, UnservedCustomer.reason)
        .join(UnservedCustomer, UnservedCustomer.customer_id == Customer.id)
        .where(
            Customer.status == CustomerStatus.ACTIVE,
            Customer.manager_id.is_(None),
            Customer.value_tier.in_(tiers),
        )
    )


async def unserved_customers(
    session: AsyncSession, *, tiers: Sequence[str], branch_code: str | None, limit: int
) -> list[tuple[Customer, datetime, str]]:
    """Longest unserved first."""
    statement = _unserved(tiers).order_by(UnservedCustomer.since, Customer.id).limit(limit)
    if branch_code is not None:
        statement = statement.where(Customer.branch_code == branch_code)
    return [(c, since, reason) for c, since, reason in (await session.execute(statement)).all()]


async def waiting_for(
    session: AsyncSession, manager: Manager, *, tiers: Sequence[str], limit: int
) -> Sequence[Customer]:
    """The unserved customers a manager with room should take, locked: their own branch's
    first, then the longest waiting (the order ``least_loaded_manager`` serves them in)."""
    statement = (
        _unserved(tiers)
        .order_by(
            (Customer.branch_code == manager.branch_code).desc(),
            UnservedCustomer.since,
            Customer.id,
        )
        .limit(limit)
        .with_for_update(of=Customer, skip_locked=True)
    )
    return [customer for customer, _, _ in (await session.execute(statement)).all()]
