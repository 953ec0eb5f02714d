"""Events the events service publishes: opportunities (next best actions) and their fate."""

import uuid
from datetime import datetime
from typing import Any

from contracts.base import DomainEvent
from contracts.catalogue import EventType


class OpportunityCreated(DomainEvent):
    event_type = EventType.OPPORTUNITY_CREATED
    opportunity_id: uuid.UUID
    customer_id: uuid.UUID
    rule_id: str
    rule_version: int
    action: str  # "retention_call", "cross_sell", "up_sell", "service_recovery"
    product: str | None
    priority: int
    owner: str  # "manager" or "contact_center"
    owner_id: uuid.UUID | None
    channel: str
    due_at: datetime
    expires_at: datetime
    facts: dict[str, Any]


class OpportunityUpdated(DomainEvent):
    event_type = EventType.OPPORTUNITY_UPDATED
    opportunity_id: uuid.UUID
    customer_id: uuid.UUID
    status: str  # "open", "in_contact", "accepted", "declined", "expired", "withdrawn"
    outcome: str | None
    updated_at: datetime


class OpportunityClosed(DomainEvent):
    event_type = EventType.OPPORTUNITY_CLOSED
    opportunity_id: uuid.UUID
    customer_id: uuid.UUID
    status: str
    outcome: str | None
    closed_at: datetime
