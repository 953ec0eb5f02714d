"""HTTP models of the reviews a tier policy asks for."""

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field

from services.customer.models import ReviewForm
from services.customer.reviews.schedule import ReviewStatus
from shared.requests import RequestModel


class ReviewCreate(RequestModel):
    form: ReviewForm = Field(description="A visit, a call, advice given, or a cross-sell.")
    notes: Annotated[str | None, Field(max_length=4000)] = None
    reviewed_at: AwareDatetime | None = Field(
        default=None, description="When it was done; now unless given. Never in the future."
    )
    next_review_on: date | None = Field(
        default=None,
        description="The next review agreed with the customer: after this one, and no later "
        "than the tier's interval allows (the interval's end unless given).",
    )


class ReviewRead(BaseModel):
    id: uuid.UUID
    reviewed_at: datetime
    reviewed_by: str
    manager_id: uuid.UUID | None
    form: str
    notes: str | None
    value_tier: str
    next_review_on: date


class ReviewSchedule(BaseModel):
    """The customer's next review as the tier policy sets it, and the last one done."""

    value_tier: str
    review_every_days: int
    counted_from: datetime = Field(
        description="The latest review, or the latest tier change when that came after it."
    )
    due_on: date
    status: ReviewStatus
    last_review: ReviewRead | None
