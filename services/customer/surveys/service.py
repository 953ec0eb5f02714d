"""Satisfaction surveys and the satisfaction index.

Satisfaction is not loyalty: a customer can answer "very satisfied" while moving their money
elsewhere. The index (0-100 over twelve months) is kept beside the loyalty state, and the
analytics list customers who say they are satisfied but whose behaviour is drifting away."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.customer import SurveyAnswered
from services.customer.config import Settings
from services.customer.customers import service as customers_service
from services.customer.models import CustomerStatus, SurveyAnswer
from services.customer.surveys import repository as surveys_repository
from services.customer.surveys.schemas import SurveyCreate, SurveyRead
from services.customer.valuation.service import place_in_quadrant
from shared.outbox import record_event


async def record_survey(
    session: AsyncSession, request: SurveyCreate, *, settings: Settings
) -> tuple[SurveyRead, bool]:
    """Record an answer (a repeat of the same survey id changes nothing); returns the answer
    with the customer's index now, and whether it was new. A new answer may move the customer
    to another quadrant, published with it."""
    # Locked: the valuation consumer places the quadrant too, on a loyalty change.
    customer = await customers_service.locked_customer(session, request.customer_id)
    answer = SurveyAnswer(id=uuid.uuid4(), **request.model_dump())
    created = await surveys_repository.add_survey_answer(session, answer)
    if not created:
        answer = await surveys_repository.survey_by_external_id(session, request.external_id)
    index = await satisfaction_index(session, customer.id, at=request.answered_at)
    if created:
        await record_event(
            session,
            SurveyAnswered(
                customer_id=customer.id,
                survey_id=answer.id,
                channel=request.channel,
                csat=request.csat,
                nps=request.nps,
                satisfaction_index=index,
                answered_at=request.answered_at,
            ),
        )
        if customer.status == CustomerStatus.ACTIVE:
            await place_in_quadrant(session, customer, settings=settings, at=datetime.now(UTC))
    return SurveyRead(id=answer.id, satisfaction_index=index), created


async def satisfaction_index(
    session: AsyncSession, customer_id: uuid.UUID, *, at: datetime
) -> Decimal | None:
    return await surveys_repository.satisfaction_index(
        session, customer_id, since=at - surveys_repository.INDEX_WINDOW
    )
