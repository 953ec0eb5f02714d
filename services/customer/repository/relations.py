"""Queries of surveys, potential customers (leads) with their visits, and relationships."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import Lead, Relationship, SurveyAnswer, VisitPlan
from services.customer.repository.customers import Custody


async def add_survey_answer(session: AsyncSession, answer: SurveyAnswer) -> bool:
    """Insert unless the channel's survey id is known; returns whether it is new."""
    statement = (
        insert(SurveyAnswer)
        .values(
            id=answer.id,
            customer_id=answer.customer_id,
            external_id=answer.external_id,
            channel=answer.channel,
            csat=answer.csat,
            nps=answer.nps,
            comment=answer.comment,
            answered_at=answer.answered_at,
        )
        .on_conflict_do_nothing(index_elements=[SurveyAnswer.external_id])
        .returning(SurveyAnswer.id)
    )
    return (await session.scalars(statement)).one_or_none() is not None


async def survey_by_external_id(session: AsyncSession, external_id: str) -> SurveyAnswer:
    statement = select(SurveyAnswer).where(SurveyAnswer.external_id == external_id)
    return (await session.scalars(statement)).one()


def satisfaction_average(
    customer_id: uuid.UUID | ColumnElement[uuid.UUID], *, since: datetime | ColumnElement[datetime]
) -> Select[float]:
    """CSAT (1-5) and NPS (0-10) rescaled to 0-100 and averaged over the answers since."""
    scores = func.coalesce(
        (SurveyAnswer.csat - 1) * 25.0,
        SurveyAnswer.nps * 10.0,
    )
    both = ((SurveyAnswer.csat - 1) * 25.0 + SurveyAnswer.nps * 10.0) / 2
    return select(func.avg(func.coalesce(both, scores))).where(
        SurveyAnswer.customer_id == customer_id, SurveyAnswer.answered_at >= since
    )


def satisfaction_index_of(average: float | None) -> Decimal | None:
    """The index as answered: the average to one decimal (None without answers)."""
    return None if average is None else Decimal(str(round(average, 1)))


async def satisfaction_index(
    session: AsyncSession, customer_id: uuid.UUID, *, since: datetime
) -> Decimal | None:
    statement = satisfaction_average(customer_id, since=since)
    return satisfaction_index_of((await session.execute(statement)).scalar())


async def get_lead(
    session: AsyncSession, lead_id: uuid.UUID, *, for_update: bool = False
) -> Lead | None:
    statement = select(Lead).where(Lead.id == lead_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def list_leads(
    session: AsyncSession, *, status: str | None, grade: str | None, limit: int,
    manager_id: uuid.UUID | None = None, branch_code: str | None = None,
) -> Sequence[Lead]:  # fmt: skip
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


async def add_relationship_pair(session: AsyncSession, rows: Sequence[dict[str, object]]) -> None:
    await session.execute(insert(Relationship).on_conflict_do_nothing(), list(rows))


async def relationships_of(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[Relationship]:
    statement = (
        select(Relationship)
        .where(Relationship.customer_id == customer_id)
        .order_by(Relationship.kind, Relationship.since)
    )
    return (await session.scalars(statement)).all()


async def custody_of_lead(session: AsyncSession, lead_id: uuid.UUID) -> Custody | None:
    row = (
        await session.execute(select(Lead.manager_id, Lead.branch_code).where(Lead.id == lead_id))
    ).one_or_none()
    return Custody(row.manager_id, row.branch_code) if row else None
