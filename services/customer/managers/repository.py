"""Queries of customer managers and their portfolios."""

import uuid
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import Customer, Manager


async def get_manager(session: AsyncSession, manager_id: uuid.UUID) -> Manager | None:
    return await session.get(Manager, manager_id)


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
