"""Queries of survey answers and the satisfaction index they give."""

import uuid
from collections.abc import Sequence
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


def _average_score() -> ColumnElement[float]:
    """CSAT (1-5) and NPS (0-10) rescaled to 0-100 and averaged."""
    scores = func.coalesce(
        (SurveyAnswer.csat - 1) * 25.0,
        SurveyAnswer.nps * 10.0,
    )
    both = ((SurveyAnswer.csat - 1) * 25.0 + SurveyAnswer.nps * 10.0) / 2
    return func.avg(func.coalesce(both, scores))


def satisfaction_average(
    customer_id: uuid.UUID | ColumnElement[uuid.UUID], *, since: datetime | ColumnElement[datetime]
) -> Select[float]:
    """The average score of the customer's answers since ``since``."""
    return select(_average_score()).where(
        SurveyAnswer.customer_id == customer_id, SurveyAnswer.answered_at >= since
    )


async def satisfaction_averages_at(
    session: AsyncSession, customer_ids: Sequence[uuid.UUID], *, at: datetime
) -> dict[uuid.UUID, Decimal]:
    """:func:`satisfaction_average_at` of several customers in one statement; a customer
    without answers in the window is absent."""
    rows = await session.execute(
        select(SurveyAnswer.customer_id, _average_score())
        .where(
            SurveyAnswer.customer_id.in_(customer_ids),
            SurveyAnswer.answered_at >= at - INDEX_WINDOW,
        )
        .group_by(SurveyAnswer.customer_id)
    )
    return {customer_id: Decimal(str(average)) for customer_id, average in rows}


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
