"""Customer managers (客户经理) and their portfolios.

A tier whose policy requires a manager (premium and key by default) always gets one: when a
customer reaches such a tier without a manager, the least-loaded active manager with room is
assigned, the customer's own branch first. Staff can reassign, never leave such a customer
without one. When no manager has room, the customer is recorded unserved, since then and why,
and the branch head is told (``CustomerUnserved``). A manager who gets room takes the unserved
customers, their own branch's first and then the longest waiting, as far as the room goes, in
the transaction that gave it: a new manager, a customer of theirs closed or moved to another
manager, their capacity raised."""

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
    ManagerUpdate,
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
    await _serve_the_waiting(session, manager, settings=settings, why="a new manager")
    return manager


async def update_manager(
    session: AsyncSession, manager_id: uuid.UUID, request: ManagerUpdate, *, settings: Settings
) -> Manager:
    """A new capacity; room it opens goes to the unserved customers at once. A capacity below
    the portfolio moves nobody: the manager takes no one new until they are below it."""
    manager = await _locked_manager(session, manager_id)
    raised = request.capacity > manager.capacity
    manager.capacity = request.capacity
    if raised:
        await _serve_the_waiting(session, manager, settings=settings, why="capacity raised")
    return manager


async def room_freed(
    session: AsyncSession, manager_id: uuid.UUID, *, settings: Settings, why: str
) -> int:
    """A customer left the manager's portfolio (closed, or moved to another manager): the
    room goes to the unserved customers at once. Returns how many the manager took."""
    manager = await _locked_manager(session, manager_id)
    return await _serve_the_waiting(session, manager, settings=settings, why=why)


async def _locked_manager(session: AsyncSession, manager_id: uuid.UUID) -> Manager:
    # Locked, so that two transactions giving the same manager room do not both fill it.
    return await get_or_404(
        managers_repository.get_manager(session, manager_id, for_update=True),
        ManagerNotFound(f"no manager {manager_id}"),
    )


async def _serve_the_waiting(
    session: AsyncSession, manager: Manager, *, settings: Settings, why: str
) -> int:
    if not manager.active:
        return 0
    # The change that gave the room (a customer closed or moved) counted in the portfolio.
    await session.flush()
    room = manager.capacity - await managers_repository.portfolio_size(session, manager.id)
    if room <= 0:
        return 0
    waiting = await managers_repository.waiting_for(
        session, manager, tiers=_tiers_needing_a_manager(settings), limit=room
    )
    for customer in waiting:
        await _assign(session, customer, manager, reason=f"a manager with room ({why})")
    return len(waiting)


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
    session: AsyncSession, customer_id: uuid.UUID, request: ManagerAssign, *, settings: Settings
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
    previous = customer.manager_id
    if previous != manager.id:
        await _assign(session, customer, manager, reason=request.reason)
        if previous is not None:
            await room_freed(session, previous, settings=settings, why="a customer reassigned")
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
