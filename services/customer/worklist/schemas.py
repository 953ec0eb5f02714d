"""HTTP models of a manager's worklist."""

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from services.customer.reviews.schedule import ReviewStatus


class WorkKind(StrEnum):
    REVIEW = "review"  # a customer's review, due under their tier's policy
    OPPORTUNITY = "opportunity"  # an opportunity the detector left for the manager
    VISIT = "visit"  # a planned visit to a potential customer, not yet recorded


class WorklistEntry(BaseModel):
    kind: WorkKind
    id: str = Field(
        description="The review's customer id, the opportunity's id, or the visit plan's id."
    )
    customer_id: uuid.UUID | None = Field(description="For a review or an opportunity.")
    lead_id: uuid.UUID | None = Field(description="For a visit: the potential customer.")
    name: str = Field(description="The customer's or potential customer's name.")
    value_tier: str | None = Field(description="The customer's tier; null for a lead.")
    lead_grade: str | None = Field(description="The potential customer's grade; null otherwise.")
    reason: str = Field(description="Why the item is on the list.")
    since: datetime | None = Field(
        description="Since when: a review counts from the latest review or tier change, an "
        "opportunity from its opening (null when it opened before the timeline kept cases), a "
        "visit from the potential customer's registration."
    )
    due_on: date = Field(description="The bank's date the item falls due.")
    due_at: datetime | None = Field(description="An opportunity's or visit's exact moment.")
    status: ReviewStatus = Field(
        description="overdue once its date has passed, due within the notice days, scheduled "
        "further off (only an opportunity is listed that early)."
    )
    overdue_days: int = Field(description="Days past the due date; 0 unless overdue.")
    weight: int = Field(
        description="Orders items on one date: 100 per rank of the customer's tier (a lead "
        "counts by its grade: A as key, B as potential, C as ordinary) plus an opportunity's "
        "priority up to 99."
    )


class WorklistPage(BaseModel):
    manager_id: uuid.UUID
    overdue: int = Field(description="Overdue items in the whole list, not only this page.")
    due: int = Field(description="Items falling due in the whole list.")
    entries: list[WorklistEntry]
    next_cursor: str | None
