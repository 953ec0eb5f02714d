"""The tier policy's reviews (定期回访): scheduled from ``review_every_days``, shown due and
overdue by the clock, recorded when done, rescheduled by a tier change."""

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.customer.config import Settings
from services.customer.customers import repository as customers_repository
from services.customer.errors import CustomerClosed, CustomerNotFound
from services.customer.models import Customer, CustomerReview, CustomerStatus
from services.customer.reviews import repository as reviews_repository
from services.customer.reviews.schedule import (
    anchor_of,
    counted_from,
    latest_next_on,
    next_review_on,
    review_status,
)
from services.customer.reviews.schemas import ReviewCreate, ReviewRead, ReviewSchedule
from shared.auth.tokens import Principal
from shared.problems import InvalidField, get_or_404


async def _customer(session: AsyncSession, customer_id: uuid.UUID, *, lock: bool) -> Customer:
    return await get_or_404(
        customers_repository.get_customer(session, customer_id, for_update=lock),
        CustomerNotFound(f"no customer {customer_id}"),
    )


async def schedule(
    session: AsyncSession, customer_id: uuid.UUID, *, settings: Settings, now: datetime
) -> ReviewSchedule:
    customer = await _customer(session, customer_id, lock=False)
    zone = settings.bank_zone
    tier_since = await reviews_repository.tier_since(session, customer_id) or customer.created_at
    latest = await reviews_repository.reviews_of(session, customer_id, limit=1)
    last = latest[0] if latest else None
    anchor = anchor_of(
        tier_since,
        reviewed_at=last.reviewed_at if last else None,
        agreed_next_on=last.next_review_on if last else None,
        zone=zone,
    )
    every = settings.tier_policies[customer.value_tier].review_every_days
    due_on = next_review_on(anchor, every_days=every)
    return ReviewSchedule(
        value_tier=customer.value_tier,
        review_every_days=every,
        counted_from=counted_from(anchor),
        due_on=due_on,
        status=review_status(
            due_on, today=now.astimezone(zone).date(), notice_days=settings.review_notice_days
        ),
        last_review=ReviewRead.model_validate(last, from_attributes=True) if last else None,
    )


async def record_review(
    session: AsyncSession,
    customer_id: uuid.UUID,
    request: ReviewCreate,
    *,
    principal: Principal,
    settings: Settings,
    now: datetime,
) -> CustomerReview:
    """Record a review done; the next date is the tier's interval on unless one was agreed."""
    customer = await _customer(session, customer_id, lock=True)
    if customer.status != CustomerStatus.ACTIVE:
        raise CustomerClosed(f"customer {customer_id} is closed")
    reviewed_at = request.reviewed_at or now
    if reviewed_at > now:
        raise InvalidField("reviewed_at", "a review is recorded once done, not before")
    reviewed_on = reviewed_at.astimezone(settings.bank_zone).date()
    every = settings.tier_policies[customer.value_tier].review_every_days
    latest = latest_next_on(reviewed_on, every_days=every)
    next_on = request.next_review_on or latest
    if not reviewed_on < next_on <= latest:
        raise InvalidField(
            "next_review_on",
            f"must be after {reviewed_on} and no later than {latest} "
            f"(tier {customer.value_tier}: every {every} days)",
        )
    review = CustomerReview(
        id=uuid.uuid4(),
        customer_id=customer_id,
        reviewed_at=reviewed_at,
        reviewed_by=principal.subject,
        manager_id=principal.manager_id,
        form=request.form,
        notes=request.notes,
        value_tier=customer.value_tier,
        next_review_on=next_on,
    )
    session.add(review)
    await session.flush()
    return review


async def reviews(session: AsyncSession, customer_id: uuid.UUID, *, limit: int) -> list[ReviewRead]:
    await _customer(session, customer_id, lock=False)
    return [
        ReviewRead.model_validate(review, from_attributes=True)
        for review in await reviews_repository.reviews_of(session, customer_id, limit=limit)
    ]
