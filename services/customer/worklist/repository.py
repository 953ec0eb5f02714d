"""Queries of a manager's worklist: their portfolio's review anchors, the opportunities they
own, and their potential customers' visits not yet recorded. Each is one statement over the
manager's own rows (the customers', opportunities' and leads' manager indexes)."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import (
    Customer,
    CustomerReview,
    CustomerStatus,
    SegmentChange,
)
from services.customer.projections import OpenOpportunity, TimelineCase
from services.customer.prospects.models import Lead, LeadStatus, VisitPlan

# Opportunities still to be worked: a withdrawn one stays in the projection but is nobody's.
WORKABLE_OPPORTUNITY = ("open", "in_contact")


async def review_anchors(session: AsyncSession, manager_id: uuid.UUID) -> Sequence[Any]:
    """Each active customer of the portfolio with what their review schedule counts from:
    the latest tier change and the latest review (its time and the next date it agreed)."""
    tier_since = (
        select(func.max(SegmentChange.effective_at))
        .where(SegmentChange.customer_id == Customer.id, SegmentChange.dimension == "value_tier")
        .correlate(Customer)
        .scalar_subquery()
    )
    last = (
        select(CustomerReview.reviewed_at, CustomerReview.next_review_on)
        .where(CustomerReview.customer_id == Customer.id)
        .order_by(CustomerReview.reviewed_at.desc(), CustomerReview.id)
        .limit(1)
        .correlate(Customer)
        .lateral("last_review")
    )
    statement = (
        select(
            Customer.id,
            Customer.name,
            Customer.value_tier,
            Customer.manager_id,
            Customer.branch_code,
            func.coalesce(tier_since, Customer.created_at).label("tier_since"),
            last.c.reviewed_at,
            last.c.next_review_on,
        )
        .outerjoin(last, true())
        .where(Customer.manager_id == manager_id, Customer.status == CustomerStatus.ACTIVE)
    )
    return (await session.execute(statement)).all()


async def owned_opportunities(session: AsyncSession, manager_id: uuid.UUID) -> Sequence[Any]:
    """The open opportunities for the manager, with their customer and when they opened. One
    kept without an owner id goes to the customer's own manager."""
    o = OpenOpportunity
    mine = or_(
        o.owner_id == manager_id, and_(o.owner_id.is_(None), Customer.manager_id == manager_id)
    )
    statement = (
        select(
            o.opportunity_id,
            o.customer_id,
            o.action,
            o.product,
            o.priority,
            o.status,
            o.due_at,
            Customer.name,
            Customer.value_tier,
            Customer.manager_id,
            Customer.branch_code,
            TimelineCase.opened_at,
        )
        .join(Customer, Customer.id == o.customer_id)
        .outerjoin(TimelineCase, TimelineCase.case_id == o.opportunity_id)
        .where(o.owner == "manager", o.status.in_(WORKABLE_OPPORTUNITY), mine)
    )
    return (await session.execute(statement)).all()


async def planned_visits(
    session: AsyncSession, manager_id: uuid.UUID, *, planned_before: datetime
) -> Sequence[Any]:
    """The visits to the manager's open potential customers whose outcome is not recorded,
    planned before the moment given."""
    statement = (
        select(
            VisitPlan.id,
            VisitPlan.planned_at,
            VisitPlan.purpose,
            Lead.id.label("lead_id"),
            Lead.name,
            Lead.grade,
            Lead.manager_id,
            Lead.branch_code,
            Lead.created_at,
        )
        .join(Lead, Lead.id == VisitPlan.lead_id)
        .where(
            Lead.manager_id == manager_id,
            Lead.status == LeadStatus.OPEN,
            VisitPlan.outcome.is_(None),
            VisitPlan.planned_at < planned_before,
        )
    )
    return (await session.execute(statement)).all()
