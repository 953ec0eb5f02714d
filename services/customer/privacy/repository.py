"""Queries of a data subject's requests: everything held about one customer (access), and
removing what identifies them while the records the bank must keep stay (erasure)."""

import uuid
from collections.abc import Sequence

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.groups.models import CustomerGroup, GroupMember
from services.customer.models import (
    CustomerIdentifier,
    CustomerReview,
    Interaction,
    PostedTransaction,
    SegmentChange,
    SurveyAnswer,
)
from services.customer.prospects.models import Lead, VisitPlan


async def all_transactions(
    session: AsyncSession, customer_id: uuid.UUID
) -> Sequence[PostedTransaction]:
    statement = (
        select(PostedTransaction)
        .where(PostedTransaction.customer_id == customer_id)
        .order_by(PostedTransaction.booked_at, PostedTransaction.transaction_id)
    )
    return (await session.scalars(statement)).all()


async def all_interactions(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[Interaction]:
    statement = (
        select(Interaction)
        .where(Interaction.customer_id == customer_id)
        .order_by(Interaction.occurred_at, Interaction.id)
    )
    return (await session.scalars(statement)).all()


async def all_survey_answers(
    session: AsyncSession, customer_id: uuid.UUID
) -> Sequence[SurveyAnswer]:
    statement = (
        select(SurveyAnswer)
        .where(SurveyAnswer.customer_id == customer_id)
        .order_by(SurveyAnswer.answered_at)
    )
    return (await session.scalars(statement)).all()


async def segment_history(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[SegmentChange]:
    statement = (
        select(SegmentChange)
        .where(SegmentChange.customer_id == customer_id)
        .order_by(SegmentChange.effective_at, SegmentChange.id)
    )
    return (await session.scalars(statement)).all()


async def all_reviews(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[CustomerReview]:
    statement = (
        select(CustomerReview)
        .where(CustomerReview.customer_id == customer_id)
        .order_by(CustomerReview.reviewed_at, CustomerReview.id)
    )
    return (await session.scalars(statement)).all()


async def leads_about(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[Lead]:
    statement = select(Lead).where(Lead.converted_customer_id == customer_id)
    return (await session.scalars(statement)).all()


async def remove_identifiers(session: AsyncSession, customer_id: uuid.UUID) -> None:
    """After this, no lookup by phone, ID number, card or account finds the customer."""
    await session.execute(
        delete(CustomerIdentifier).where(CustomerIdentifier.customer_id == customer_id)
    )


async def clear_free_text(session: AsyncSession, customer_id: uuid.UUID, *, erased: str) -> None:
    """Free text may name anyone: the counterparty and memo of each transaction, interaction
    summaries, survey comments, review notes, the lead's name and phone, visit notes. Amounts,
    dates and kinds stay (the bank keeps its books); the rows keep only the customer's
    meaningless id."""
    await session.execute(
        update(PostedTransaction)
        .where(PostedTransaction.customer_id == customer_id)
        .values(counterparty_name=None, description=None)
    )
    await session.execute(
        update(Interaction).where(Interaction.customer_id == customer_id).values(summary=None)
    )
    await session.execute(
        update(SurveyAnswer).where(SurveyAnswer.customer_id == customer_id).values(comment=None)
    )
    await session.execute(
        update(CustomerReview).where(CustomerReview.customer_id == customer_id).values(notes=None)
    )
    leads = select(Lead.id).where(Lead.converted_customer_id == customer_id)
    await session.execute(
        update(VisitPlan).where(VisitPlan.lead_id.in_(leads)).values(outcome_note=None)
    )
    await session.execute(
        update(Lead)
        .where(Lead.converted_customer_id == customer_id)
        .values(name=erased, phone=None)
    )


async def clear_group_names(
    session: AsyncSession, customer_id: uuid.UUID, *, name: str, erased: str
) -> None:
    """A household or group name identifies the erased customer when they are the only
    customer it ever held, or when it is named after them: either name contains the other
    ("王伟家" for 王伟, "星河集团" for 星河集团有限公司). A name that merely shares a
    surname ("王家" with other members) stays: it names the family, not the person. The
    memberships stay, with the customer's meaningless id."""
    theirs = select(GroupMember.group_id).where(GroupMember.customer_id == customer_id)
    someone_else = exists().where(
        GroupMember.group_id == CustomerGroup.id, GroupMember.customer_id != customer_id
    )
    group_name, person = func.lower(CustomerGroup.name), func.lower(name.strip())
    named_after = or_(func.strpos(group_name, person) > 0, func.strpos(person, group_name) > 0)
    await session.execute(
        update(CustomerGroup)
        .where(and_(CustomerGroup.id.in_(theirs), or_(~someone_else, named_after)))
        .values(name=erased)
    )
