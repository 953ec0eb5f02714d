"""HTTP API of the reviews a tier policy asks for (定期回访)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from services.customer.access import customer_in_reach
from services.customer.dependencies import NowDep, SettingsDep
from services.customer.reviews import service as reviews_service
from services.customer.reviews.schemas import ReviewCreate, ReviewRead, ReviewSchedule
from shared.auth.http import PrincipalDep
from shared.http import SessionDep

router = APIRouter(prefix="/v1", dependencies=[Depends(customer_in_reach)])


@router.get("/customers/{customer_id}/review", tags=["customers"])
async def review_schedule(
    customer_id: uuid.UUID, session: SessionDep, settings: SettingsDep, now: NowDep
) -> ReviewSchedule:
    """When the customer's next review is due under their tier's policy, whether it is due
    or overdue, and the last review done."""
    return await reviews_service.schedule(session, customer_id, settings=settings, now=now)


@router.post(
    "/customers/{customer_id}/reviews", status_code=status.HTTP_201_CREATED, tags=["customers"]
)
async def record_review(
    customer_id: uuid.UUID,
    body: ReviewCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    now: NowDep,
) -> ReviewRead:
    """Record a review done: by whom (the caller), its form, notes and the next date."""
    review = await reviews_service.record_review(
        session, customer_id, body, principal=principal, settings=settings, now=now
    )
    return ReviewRead.model_validate(review, from_attributes=True)


@router.get("/customers/{customer_id}/reviews", tags=["customers"])
async def customer_reviews(
    customer_id: uuid.UUID,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReviewRead]:
    """The reviews done, newest first."""
    return await reviews_service.reviews(session, customer_id, limit=limit)
