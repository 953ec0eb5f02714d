"""Events the contact_center service publishes (frozen pydantic models, one per catalogue type).

``OutboundAttempted`` is defined ahead of the service itself: the events service consumes it
to record what became of an opportunity the contact centre called about."""

import uuid
from datetime import datetime
from typing import Literal

from shared.catalogue import EventType
from shared.events import DomainEvent

CallResult = Literal["reached", "no_answer", "wrong_number", "accepted", "declined"]


class OutboundAttempted(DomainEvent):
    event_type = EventType.OUTBOUND_ATTEMPTED
    customer_id: uuid.UUID
    attempt_id: uuid.UUID
    # The opportunity the call-list entry came from, when it came from one.
    opportunity_id: uuid.UUID | None
    result: CallResult
    attempt: int  # 1 for the first try
    agent_id: str | None
    attempted_at: datetime
