"""Events the contact_center service publishes on ``crm.contact.v1`` (frozen pydantic models,
one per catalogue type). Each contact with a known customer is also published as the customer
service's ``interaction.recorded`` on ``crm.interactions.v1``, so every channel shares one
timeline.

They carry identifiers and the facts consumers need: never the caller's number. A call from
someone the bank does not know is keyed by the call id."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from contracts.base import DomainEvent
from contracts.catalogue import EventType

CallResult = Literal["reached", "no_answer", "wrong_number", "accepted", "declined"]


class _AboutACall(DomainEvent):
    call_id: uuid.UUID
    customer_id: uuid.UUID | None

    @property
    def subject(self) -> str:
        return str(self.customer_id or self.call_id)


class CallStarted(_AboutACall):
    event_type = EventType.CALL_STARTED
    direction: str  # "inbound" or "callback"
    identified_by: str
    value_tier: str | None
    queue: str
    priority: int
    started_at: datetime


class ComplaintFromCall(BaseModel):
    """A complaint the agent took on the call: the complaints service opens the case."""

    category: str
    description: str


class CallEnded(_AboutACall):
    event_type = EventType.CALL_ENDED
    outcome: Literal["completed", "abandoned"]
    queue: str
    agent_id: str | None
    wrap_up_code: str | None
    resolved: bool | None
    transfers: int
    wait_seconds: float  # arrival to answer, or to the hang-up of an abandoned call
    handle_seconds: float | None  # answer to the end of wrap-up
    ended_at: datetime
    complaint: ComplaintFromCall | None


class CallbackScheduled(DomainEvent):
    event_type = EventType.CALLBACK_SCHEDULED
    callback_id: uuid.UUID
    customer_id: uuid.UUID | None
    call_id: uuid.UUID | None
    queue: str
    agent_id: str | None
    requested_for: datetime

    @property
    def subject(self) -> str:
        return str(self.customer_id or self.callback_id)


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
