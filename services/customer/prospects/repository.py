"""Queries of potential customers (leads) and their visits."""

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.customers.repository import Custody
from services.customer.prospects.models import Lead, VisitPlan


async def get_lead(
    session: AsyncSession, lead_id: uuid.UUID, *, for_update: bool = False
) -> Lead | None:
    statement = select(Lead).where(Lead.id == lead_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def list_leads(
    session: AsyncSession,
    *,
    status: str | None,
    grade: str | None,
    limit: int,
    manager_id: uuid.UUID | None = None,
    branch_code: str | None = None,
) -> Sequence[Lead]:
    statement = select(Lead).order_by(Lead.grade, Lead.estimated_value_cny.desc()).limit(limit)
    if manager_id is not None:
        statement = statement.where(Lead.manager_id == manager_id)
    if branch_code is not None:
        statement = statement.where(Lead.branch_code == branch_code)
    if status:
        statement = statement.where(Lead.status == status)
    if grade:
        statement = statement.where(Lead.grade == grade)
    return (await session.scalars(statement)).all()


async def get_visit(
    session: AsyncSession, lead_id: uuid.UUID, visit_id: uuid.UUID
) -> VisitPlan | None:
    statement = select(VisitPlan).where(VisitPlan.id == visit_id, VisitPlan.lead_id == lead_id)
    return (await session.scalars(statement.with_for_update())).one_or_none()


async def visits_of(session: AsyncSession, lead_id: uuid.UUID) -> Sequence[VisitPlan]:
    statement = select(VisitPlan).where(VisitPlan.lead_id == lead_id).order_by(VisitPlan.planned_at)
    return (await session.scalars(statement)).all()


async def custody_of_lead(session: AsyncSession, lead_id: uuid.UUID) -> Custody | None:
    row = (
        await session.execute(select(Lead.manager_id, Lead.branch_code).where(Lead.id == lead_id))
    ).one_or_none()
    return Custody(row.manager_id, row.branch_code) if row else None
