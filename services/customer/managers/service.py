"""Customer managers (客户经理) and their portfolios.

A tier whose policy requires a manager (premium and key by default) always gets one: when a
customer reaches such a tier without a manager, the least-loaded active manager with room is
assigned, the customer's own branch first. Staff can reassign, never leave such a customer
without one. When no manager has room, the customer is recorded unserved, since then and why,
and the branch head is told (``CustomerUnserved``); the next manager registered takes the
unserved customers, their own branch's first, as far as their capacity goes."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import CustomerManagerAssigned, CustomerUnserved
from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from services.customer.errors import (
    CustomerClosed,
    CustomerNotFound,
    ManagerExists,
    ManagerNotFound,
    ManagerUnavailable,
)
from services.customer.managers import repository as managers_repository
from services.customer.managers.schemas import (
    ManagerAssign,
    ManagerCreate,
    ManagerRead,
    ManagerWorkload,
    UnservedCustomerRead,
)
from services.customer.models import Customer, CustomerStatus, Manager
from shared.logging import get_logger
from shared.outbox import record_event
from shared.problems import get_or_404

log = get_logger(__name__)


def _tiers_needing_a_manager(settings: Settings) -> list[str]:
    return sorted(t for t, policy in settings.tier_policies.items() if policy.manager_required)


async def create_manager(
    session: AsyncSession, request: ManagerCreate, *, settings: Settings
) -> Manager:
    """A new manager has room: they take the unserved customers first."""
    if await managers_repository.manager_by_employee_number(session, request.employee_number):
        raise ManagerExists(f"employee {request.employee_number} is already a manager")
    manager = Manager(id=uuid.uuid4(), active=True, **request.model_dump())
    session.add(manager)
    await session.flush()
    waiting = await managers_repository.waiting_for(
        session, manager, tiers=_tiers_needing_a_manager(settings), limit=manager.capacity
    )
    for customer in waiting:
        await _assign(session, customer, manager, reason="a manager with room for the unserved")
    return manager


async def unserved(
    session: AsyncSession, *, settings: Settings, branch_code: str | None, limit: int
) -> list[UnservedCustomerRead]:
    rows = await managers_repository.unserved_customers(
        session, tiers=_tiers_needing_a_manager(settings), branch_code=branch_code, limit=limit
    )
    return [
        UnservedCustomerRead(
            customer_id=customer.id,
            name=customer.name,
            branch_code=customer.branch_code,
            value_tier=customer.value_tier,
            since=since,
            reason=reason,
        )
        for customer, since, reason in rows
    ]


async def workloads(session: AsyncSession, *, branch_code: str | None) -> list[ManagerWorkload]:
    return [
        ManagerWorkload(
            manager=ManagerRead.model_validate(manager, from_attributes=True),
            customers=sum(by_tier.values()),
            by_tier=by_tier,
            utilisation=round(Decimal(sum(by_tier.values())) / manager.capacity, 3),
        )
        for manager, by_tier in await managers_repository.manager_workloads(
            session, branch_code=branch_code
        )
    ]


async def _assign(
    session: AsyncSession, customer: Customer, manager: Manager, *, reason: str
) -> None:
    previous = customer.manager_id
    customer.manager_id = manager.id
    customer.version += 1
    await managers_repository.mark_served(session, customer.id)
    await record_event(
        session,
        CustomerManagerAssigned(
            customer_id=customer.id,
            manager_id=manager.id,
            previous_manager_id=previous,
            branch_code=manager.branch_code,
            reason=reason,
        ),
    )


async def assign_manager(
    session: AsyncSession, customer_id: uuid.UUID, request: ManagerAssign
) -> Customer:
    customer = await get_or_404(
        customers_repository.get_customer(session, customer_id, for_update=True),
        CustomerNotFound(f"no customer {customer_id}"),
    )
    if customer.status != CustomerStatus.ACTIVE:
        raise CustomerClosed(f"customer {customer_id} is closed")
    manager = await get_or_404(
        managers_repository.get_manager(session, request.manager_id),
        ManagerNotFound(f"no manager {request.manager_id}"),
    )
    if not manager.active:
        raise ManagerUnavailable("the manager is not active", manager_id=str(manager.id))
    if customer.manager_id != manager.id:
        await _assign(session, customer, manager, reason=request.reason)
    return customer


async def ensure_manager(
    session: AsyncSession, customer: Customer, *, settings: Settings, reason: str, at: datetime
) -> None:
    """Give a customer whose tier requires a manager the least-loaded one, if it has none."""
    if customer.manager_id is not None:
        return
    if not settings.tier_policies[customer.value_tier].manager_required:
        # A tier that no longer requires one: no longer unserved either.
        await managers_repository.mark_served(session, customer.id)
        return
    manager = await managers_repository.least_loaded_manager(session, customer.branch_code)
    if manager is not None:
        await _assign(session, customer, manager, reason=reason)
        return
    # Nobody has room: the customer goes on the list of unserved customers rather than
    # overloading a manager silently, and the branch head is told once.
    why = f"no active manager has room, in branch {customer.branch_code or '(none)'} or any other"
    if await managers_repository.mark_unserved(session, customer.id, since=at, reason=why):
        log.warning("manager.none_available", customer_id=str(customer.id))
        await record_event(
            session,
            CustomerUnserved(
                customer_id=customer.id,
                branch_code=customer.branch_code,
                value_tier=customer.value_tier,
                reason=why,
                since=at,
            ),
        )
