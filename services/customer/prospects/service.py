"""Potential customers (潜在客户): graded by estimated value, visited, converted.

Grade A, B or C comes from the estimated value against configured thresholds, so managers
visit the most valuable first. Conversion registers the customer through the same rules as any
registration and publishes ``lead.converted`` (with who referred them, for referral credit)."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import LeadConverted
from services.customer.config import LeadGrades, Settings
from services.customer.customers import repository as customers_repository
from services.customer.customers.schemas import CorporateCreate, IndividualCreate
from services.customer.customers.service import register_customer
from services.customer.errors import CustomerNotFound, LeadClosed, LeadNotFound, VisitNotFound
from services.customer.models import Customer
from services.customer.prospects import repository as prospects_repository
from services.customer.prospects.models import Lead, LeadStatus, VisitPlan
from services.customer.prospects.schemas import (
    LeadCreate,
    LeadRead,
    VisitOutcome,
    VisitOutcomeRecord,
    VisitPlanCreate,
)
from services.customer.relationships import repository as relationships_repository
from services.customer.valuation.money import to_cny
from shared.outbox import record_event
from shared.problems import InvalidField, get_or_404


def grade_of(estimated_value_cny: Decimal, grades: LeadGrades) -> str:
    if estimated_value_cny >= grades.a_from:
        return "A"
    if estimated_value_cny >= grades.b_from:
        return "B"
    return "C"


async def create_lead(session: AsyncSession, request: LeadCreate, *, settings: Settings) -> Lead:
    if request.estimated_value.currency not in settings.fx_rates_to_cny:
        raise InvalidField("estimated_value.currency", "no reference rate to value it")
    if (
        request.referred_by
        and await customers_repository.get_customer(session, request.referred_by) is None
    ):
        raise CustomerNotFound(f"no customer {request.referred_by} to have referred this lead")
    value = to_cny(request.estimated_value.amount, request.estimated_value.currency, settings)
    lead = Lead(
        id=uuid.uuid4(),
        name=request.name,
        kind=request.kind,
        source=request.source,
        estimated_value_cny=value.quantize(Decimal("0.01")),
        grade=grade_of(value, settings.lead_grades),
        phone=request.phone,
        branch_code=request.branch_code,
        manager_id=request.manager_id,
        referred_by=request.referred_by,
        status=LeadStatus.OPEN,
    )
    session.add(lead)
    await session.flush()
    return lead


async def list_leads(
    session: AsyncSession,
    *,
    status: str | None,
    grade: str | None,
    limit: int,
    manager_id: uuid.UUID | None = None,
    branch_code: str | None = None,
) -> list[LeadRead]:
    leads = await prospects_repository.list_leads(
        session,
        status=status,
        grade=grade,
        limit=limit,
        manager_id=manager_id,
        branch_code=branch_code,
    )
    return [LeadRead.model_validate(lead, from_attributes=True) for lead in leads]


async def _open_lead(session: AsyncSession, lead_id: uuid.UUID) -> Lead:
    lead = await get_or_404(
        prospects_repository.get_lead(session, lead_id, for_update=True),
        LeadNotFound(f"no potential customer {lead_id}"),
    )
    if lead.status != LeadStatus.OPEN:
        raise LeadClosed(f"the potential customer is {lead.status}", lead_status=str(lead.status))
    return lead


async def plan_visit(
    session: AsyncSession, lead_id: uuid.UUID, request: VisitPlanCreate
) -> VisitPlan:
    lead = await _open_lead(session, lead_id)
    visit = VisitPlan(
        id=uuid.uuid4(), lead_id=lead.id, planned_at=request.planned_at, purpose=request.purpose
    )
    session.add(visit)
    await session.flush()
    return visit


async def record_visit_outcome(
    session: AsyncSession, lead_id: uuid.UUID, visit_id: uuid.UUID, request: VisitOutcomeRecord
) -> VisitPlan:
    lead = await _open_lead(session, lead_id)
    visit = await get_or_404(
        prospects_repository.get_visit(session, lead.id, visit_id),
        VisitNotFound(f"no visit {visit_id} for this potential customer"),
    )
    visit.outcome = request.outcome
    visit.outcome_note = request.note
    visit.recorded_at = datetime.now(UTC)
    if request.outcome is VisitOutcome.NOT_INTERESTED:
        lead.status = LeadStatus.LOST
    return visit


async def convert_lead(
    session: AsyncSession,
    lead_id: uuid.UUID,
    request: IndividualCreate | CorporateCreate,
    *,
    settings: Settings,
) -> Customer:
    lead = await _open_lead(session, lead_id)
    customer = await register_customer(session, request, settings=settings)
    if lead.manager_id is not None and customer.manager_id is None:
        customer.manager_id = lead.manager_id
    lead.status = LeadStatus.CONVERTED
    lead.converted_customer_id = customer.id
    await record_event(
        session,
        LeadConverted(
            customer_id=customer.id,
            lead_id=lead.id,
            source=lead.source,
            grade=lead.grade,
            referred_by=lead.referred_by,
        ),
    )
    if lead.referred_by is not None:
        await add_referral(session, customer=customer.id, referrer=lead.referred_by)
    return customer


async def add_referral(session: AsyncSession, *, customer: uuid.UUID, referrer: uuid.UUID) -> None:
    today = datetime.now(UTC).date()
    await relationships_repository.add_relationship_pair(
        session,
        [
            {
                "customer_id": customer,
                "related_customer_id": referrer,
                "kind": "referred_by",
                "since": today,
            },
            {
                "customer_id": referrer,
                "related_customer_id": customer,
                "kind": "referred",
                "since": today,
            },
        ],
    )
