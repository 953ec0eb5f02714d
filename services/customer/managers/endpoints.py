"""HTTP API of customer managers and their portfolios."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from services.customer.access import customer_in_reach
from services.customer.customers import answers as customers_answers
from services.customer.customers.schemas import CustomerRead
from services.customer.dependencies import SettingsDep
from services.customer.managers import service as managers_service
from services.customer.managers.schemas import (
    ManagerAssign,
    ManagerCreate,
    ManagerRead,
    ManagerUpdate,
    ManagerWorkload,
)
from shared.http import SessionDep

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post("/managers", status_code=status.HTTP_201_CREATED, tags=["managers"])
async def create_manager(
    body: ManagerCreate, session: SessionDep, settings: SettingsDep
) -> ManagerRead:
    """Register a customer manager (客户经理) with the portfolio size they can serve; they take
    the unserved customers (their branch's first) as far as that goes."""
    manager = await managers_service.create_manager(session, body, settings=settings)
    return ManagerRead.model_validate(manager, from_attributes=True)


@router.patch("/managers/{manager_id}", tags=["managers"])
async def update_manager(
    manager_id: uuid.UUID, body: ManagerUpdate, session: SessionDep, settings: SettingsDep
) -> ManagerRead:
    """Change the portfolio size a manager can serve; room it opens is taken at once by the
    unserved customers (their branch's first, then the longest waiting)."""
    manager = await managers_service.update_manager(session, manager_id, body, settings=settings)
    return ManagerRead.model_validate(manager, from_attributes=True)


@router.get("/managers", tags=["managers"])
async def manager_workloads(
    session: SessionDep,
    branch_code: Annotated[str | None, Query(max_length=20)] = None,
) -> list[ManagerWorkload]:
    """Each manager's portfolio: customers by tier and utilisation of capacity."""
    return await managers_service.workloads(session, branch_code=branch_code)


@router.put("/customers/{customer_id}/manager", tags=["managers"])
async def assign_manager(
    customer_id: uuid.UUID, body: ManagerAssign, session: SessionDep, settings: SettingsDep
) -> CustomerRead:
    """Assign (or reassign) the customer's manager."""
    customer = await managers_service.assign_manager(session, customer_id, body, settings=settings)
    return customers_answers.customer_read(customer, settings)
