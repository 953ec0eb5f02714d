"""HTTP API of potential customers: registered, listed, visited, converted."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from services.customer.access import assign_own_lead, customer_in_reach, ensure_own_branch, reach_of
from services.customer.customers import answers as customers_answers
from services.customer.customers.schemas import CustomerCreate, CustomerRead
from services.customer.dependencies import SettingsDep
from services.customer.prospects import service as prospects_service
from services.customer.prospects.schemas import (
    LeadCreate,
    LeadRead,
    VisitOutcomeRecord,
    VisitPlanCreate,
    VisitPlanRead,
)
from shared.auth.http import PrincipalDep
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post("/leads", status_code=status.HTTP_201_CREATED, response_model=LeadRead, tags=["leads"])
async def create_lead(
    body: LeadCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Response:
    """Register a potential customer (潜在客户); its grade follows its estimated value. A
    customer manager's lead is theirs; branch staff register leads at their own branch."""
    ensure_own_branch(principal, body.branch_code)
    body = body.model_copy(update={"manager_id": assign_own_lead(principal, body.manager_id)})

    async def create() -> tuple[LeadRead, dict[str, str]]:
        lead = await prospects_service.create_lead(session, body, settings=settings)
        return LeadRead.model_validate(lead, from_attributes=True), {}

    return await answer_once(
        session,
        key=key,
        scope="POST /v1/leads",
        request_body=body,
        status_code=status.HTTP_201_CREATED,
        produce=create,
    )


@router.get("/leads", tags=["leads"])
async def list_leads(
    session: SessionDep,
    principal: PrincipalDep,
    lead_status: Annotated[
        str | None, Query(alias="status", pattern="^(open|converted|lost)$")
    ] = "open",
    grade: Annotated[str | None, Query(pattern="^[ABC]$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[LeadRead]:
    """Potential customers, grade A first and the most valuable first within a grade; a
    customer manager sees their own, branch staff their branch's."""
    reach = reach_of(principal)
    if reach is not None and reach.nobody:
        return []
    return await prospects_service.list_leads(
        session,
        status=lead_status,
        grade=grade,
        limit=limit,
        manager_id=reach.manager_id if reach else None,
        branch_code=reach.branch_code if reach else None,
    )


@router.post("/leads/{lead_id}/visits", status_code=status.HTTP_201_CREATED, tags=["leads"])
async def plan_visit(
    lead_id: uuid.UUID, body: VisitPlanCreate, session: SessionDep
) -> VisitPlanRead:
    """Plan a visit (拜访计划) to a potential customer."""
    visit = await prospects_service.plan_visit(session, lead_id, body)
    return VisitPlanRead.model_validate(visit, from_attributes=True)


@router.post("/leads/{lead_id}/visits/{visit_id}/outcome", tags=["leads"])
async def record_visit_outcome(
    lead_id: uuid.UUID, visit_id: uuid.UUID, body: VisitOutcomeRecord, session: SessionDep
) -> VisitPlanRead:
    """What came of a visit; "not interested" closes the lead as lost."""
    visit = await prospects_service.record_visit_outcome(session, lead_id, visit_id, body)
    return VisitPlanRead.model_validate(visit, from_attributes=True)


@router.post(
    "/leads/{lead_id}/convert",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerRead,
    tags=["leads"],
)
async def convert_lead(
    lead_id: uuid.UUID,
    body: CustomerCreate,
    session: SessionDep,
    settings: SettingsDep,
    key: IdempotencyKey = None,
) -> Response:
    """Register the potential customer as a customer (publishes ``lead.converted``)."""

    async def convert() -> tuple[CustomerRead, dict[str, str]]:
        customer = await prospects_service.convert_lead(session, lead_id, body, settings=settings)
        return customers_answers.customer_read(customer, settings), {
            "Location": f"/v1/customers/{customer.id}"
        }

    return await answer_once(
        session,
        key=key,
        scope=f"POST /v1/leads/{lead_id}/convert",
        request_body=body,
        status_code=status.HTTP_201_CREATED,
        produce=convert,
    )
