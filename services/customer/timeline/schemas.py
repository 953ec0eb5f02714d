"""HTTP models of a customer's timeline: every contact, posting and case in time order."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field


class TimelineKind(StrEnum):
    INTERACTION = "interaction"
    TRANSACTION = "transaction"
    COMPLAINT = "complaint"
    OPPORTUNITY = "opportunity"


class TimelineEntry(BaseModel):
    """One thing that happened with the customer. A transaction is an entry of its own, not a
    day's sum: each posting has its own time and id, so a page ends exactly after one, and a
    day still receiving postings would change under a reader's cursor."""

    at: datetime
    kind: TimelineKind
    id: str = Field(description="The interaction's, transaction's, complaint's or opportunity's")
    channel: str | None
    subject: str = Field(
        description="The interaction's or transaction's kind, the complaint's category, "
        "the opportunity's action"
    )
    summary: str | None = Field(
        description="What the contact was about; a complaint's priority; the product offered"
    )
    direction: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    status: str | None = Field(
        default=None,
        description="A case: open, or how it closed; a transaction: reversed once reversed",
    )


class TimelinePage(BaseModel):
    entries: list[TimelineEntry]
    next_cursor: str | None
