"""Queries of survey answers and the satisfaction index they give."""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.models import SurveyAnswer

# The satisfaction index averages the answers of this long before the moment it is read at.
INDEX_WINDOW = timedelta(days=365)


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


async def satisfaction_average_at(
    session: AsyncSession, customer_id: uuid.UUID, *, at: datetime
) -> Decimal | None:
    """The unrounded index at ``at``, as the 360 view and the drifting list compare it."""
    average = (
        await session.execute(satisfaction_average(customer_id, since=at - INDEX_WINDOW))
    ).scalar()
    return None if average is None else Decimal(str(average))


async def satisfaction_index(
    session: AsyncSession, customer_id: uuid.UUID, *, since: datetime
) -> Decimal | None:
    statement = satisfaction_average(customer_id, since=since)
    return satisfaction_index_of((await session.execute(statement)).scalar())
