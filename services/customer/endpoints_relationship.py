"""HTTP API for managing the relationship: surveys, potential customers, ties between
customers, and the value analytics."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from services.customer import analytics, prospects, relationships, satisfaction, views
from services.customer.access import assign_own_lead, customer_in_reach, ensure_own_branch, reach_of
from services.customer.dependencies import SettingsDep
from services.customer.schemas import (
    CustomerCreate,
    CustomerRead,
    DriftingCustomer,
    LeadCreate,
    LeadRead,
    RelationshipCreate,
    RelationshipRead,
    RfmScore,
    SegmentMigration,
    SurveyCreate,
    SurveyRead,
    ValuePyramid,
    VisitOutcomeRecord,
    VisitPlanCreate,
    VisitPlanRead,
)
from shared.auth.http import PrincipalDep
from shared.http import SessionDep
from shared.idempotency import IdempotencyKey, answer_once
from shared.problems import ProblemError

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.post("/surveys", status_code=status.HTTP_201_CREATED, tags=["satisfaction"])
async def record_survey(body: SurveyCreate, session: SessionDep, response: Response) -> SurveyRead:
    """Record a satisfaction answer (CSAT 1-5, NPS 0-10); a repeated ``external_id`` is
    answered with the first recording (200)."""
    answer, created = await satisfaction.record_survey(session, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return answer


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
        lead = await prospects.create_lead(session, body, settings=settings)
        return prospects.lead_read(lead), {}

    return await answer_once(
        session, key=key, scope="POST /v1/leads", request_body=body,
        status_code=status.HTTP_201_CREATED, produce=create,
    )  # fmt: skip


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
    return await prospects.list_leads(
        session, status=lead_status, grade=grade, limit=limit,
        manager_id=reach.manager_id if reach else None,
        branch_code=reach.branch_code if reach else None,
    )  # fmt: skip


@router.post("/leads/{lead_id}/visits", status_code=status.HTTP_201_CREATED, tags=["leads"])
async def plan_visit(
    lead_id: uuid.UUID, body: VisitPlanCreate, session: SessionDep
) -> VisitPlanRead:
    """Plan a visit (拜访计划) to a potential customer."""
    return prospects.visit_read(await prospects.plan_visit(session, lead_id, body))


@router.post("/leads/{lead_id}/visits/{visit_id}/outcome", tags=["leads"])
async def record_visit_outcome(
    lead_id: uuid.UUID, visit_id: uuid.UUID, body: VisitOutcomeRecord, session: SessionDep
) -> VisitPlanRead:
    """What came of a visit; "not interested" closes the lead as lost."""
    visit = await prospects.record_visit_outcome(session, lead_id, visit_id, body)
    return prospects.visit_read(visit)


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
        customer = await prospects.convert_lead(session, lead_id, body, settings=settings)
        return views.customer_read(customer, settings), {"Location": f"/v1/customers/{customer.id}"}

    return await answer_once(
        session, key=key, scope=f"POST /v1/leads/{lead_id}/convert", request_body=body,
        status_code=status.HTTP_201_CREATED, produce=convert,
    )  # fmt: skip


@router.post(
    "/customers/{customer_id}/relationships",
    status_code=status.HTTP_201_CREATED,
    tags=["relationships"],
)
async def add_relationship(
    customer_id: uuid.UUID, body: RelationshipCreate, session: SessionDep
) -> list[RelationshipRead]:
    """Tie two customers: household, corporate group (parent/subsidiary), related party,
    referral. The other customer gets the inverse tie."""
    await relationships.add_relationship(session, customer_id, body)
    return await relationships.relationships(session, customer_id)


@router.get("/customers/{customer_id}/relationships", tags=["relationships"])
async def list_relationships(customer_id: uuid.UUID, session: SessionDep) -> list[RelationshipRead]:
    return await relationships.relationships(session, customer_id)


@router.get("/analytics/value-pyramid", tags=["analytics"])
async def value_pyramid(session: SessionDep, settings: SettingsDep) -> ValuePyramid:
    """Customers, assets and contribution by tier; the top 20%'s share (20:80 rule); how
    many customers are profitable, marginal or loss-making."""
    return await analytics.value_pyramid(session, settings=settings)


@router.get("/analytics/segment-migration", tags=["analytics"])
async def segment_migration(
    session: SessionDep, start: datetime, end: datetime | None = None
) -> SegmentMigration:
    """The tier matrix: how many customers went from each tier at ``start`` to each at
    ``end`` (default now)."""
    finish = end or datetime.now(UTC)
    for name, moment in (("start", start), ("end", finish)):
        if moment.tzinfo is None:
            raise ProblemError(f"{name}: give a time zone", field=name)
    if finish <= start:
        raise ProblemError("end: must be after start", field="end")
    return await analytics.segment_migration(session, start=start, end=finish)


@router.get("/analytics/drifting", tags=["analytics"])
async def drifting_customers(
    session: SessionDep,
    settings: SettingsDep,
    satisfied_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DriftingCustomer]:
    """Customers drifting away (游离), most valuable first. ``satisfied_only`` keeps those
    whose surveys say they are satisfied: satisfaction is not loyalty."""
    return await analytics.drifting(
        session, settings=settings, satisfied_only=satisfied_only, limit=limit
    )


@router.get("/analytics/rfm", tags=["analytics"])
async def rfm_scores(
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RfmScore]:
    """Recency, frequency and monetary scores (1-5 by quintile over the last year), best
    customers first."""
    return await analytics.rfm(session, settings=settings, limit=limit)
