"""Events the complaints service publishes (the contract other services build on).

A complaint from someone who is not a customer has no ``customer_id``; its key is then the
complaint id, so its events still stay in order."""

import uuid
from datetime import datetime
from enum import StrEnum

from contracts.base import DomainEvent
from contracts.catalogue import EventType


# What a complaint is about, on the wire and in the contact centre's wrap-ups. (A comment, not a
# docstring: a docstring would change the published OpenAPI documents.)
class ComplaintCategory(StrEnum):
    PRODUCT = "product"
    FEES = "fees"
    SERVICE_ATTITUDE = "service_attitude"
    DISPUTE_OR_FRAUD = "dispute_or_fraud"
    SYSTEM_FAILURE = "system_failure"
    PAYMENT_SERVICES = "payment_services"
    DATA_PRIVACY = "data_privacy"
    MIS_SELLING = "mis_selling"
    OTHER = "other"


class _ComplaintEvent(DomainEvent):
    complaint_id: uuid.UUID
    customer_id: uuid.UUID | None

    @property
    def subject(self) -> str:
        return str(self.customer_id or self.complaint_id)


class ComplaintReceived(_ComplaintEvent):
    event_type = EventType.COMPLAINT_RECEIVED
    channel: str
    category: str
    priority: str
    received_at: datetime
    due_at: datetime


class ComplaintStepCompleted(_ComplaintEvent):
    event_type = EventType.COMPLAINT_STEP_COMPLETED
    step: str
    next_step: str | None
    completed_at: datetime
    due_at: datetime | None


class ComplaintEscalated(_ComplaintEvent):
    event_type = EventType.COMPLAINT_ESCALATED
    level: int
    reason: str
    escalated_at: datetime


class ComplaintClosed(_ComplaintEvent):
    event_type = EventType.COMPLAINT_CLOSED
    outcome: str  # "resolved", "invalid" or "withdrawn"
    closed_at: datetime


class ComplaintLetterIssued(_ComplaintEvent):
    """A letter to the complainant, kept by the complaints service for a channel to deliver.

    The event names the letter and carries no text: the letter quotes the case, which stays in
    the service; the channel fetches it (``GET /v1/complaints/{complaint_id}/letters``) as text
    or PDF, and answers a non-customer through the contact details kept with the case."""

    event_type = EventType.COMPLAINT_LETTER_ISSUED
    letter_id: uuid.UUID
    kind: str  # "acknowledgement", "holding" or "final_response"
    language: str  # "zh-CN" or "en"
    jurisdiction: str  # the regulatory pack: "cn", "uk" or "us"
    issued_at: datetime
