"""Request and response bodies of the outbound call list and the do-not-call register."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from contracts.contact_center import CallResult
from services.contact_center.schemas import AgentId, Note, Timed
from shared.requests import RequestModel


class OutboundAttempt(Timed):
    agent_id: AgentId
    result: CallResult


class OutboundEntryRead(BaseModel):
    id: uuid.UUID
    opportunity_id: uuid.UUID
    customer_id: uuid.UUID
    rule_id: str
    action: str
    product: str | None
    priority: int = Field(description="The opportunity's: higher is called first.")
    facts: dict[str, object]
    script: str | None
    due_at: datetime
    expires_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_result: str | None
    withdrawn_reason: str | None = Field(
        description="Why a withdrawn entry left the list: the opportunity's outcome at the "
        "events service (complaint_received:<id>, transaction_reversed:<reason>:<id>), "
        "opportunity_<status> when it gave none, or erasure."
    )
    blocked_by: str | None = Field(
        description="The calling rule that stops a call now (no_consent, do_not_call, "
        "outside_calling_hours, retry_later, max_attempts, expired, customer_closed), or null."
    )


class CallList(BaseModel):
    items: list[OutboundEntryRead]
    within_calling_hours: bool
    calling_hours: str = Field(examples=["09:00-20:00 Asia/Shanghai"])


class DoNotCallRequest(RequestModel):
    reason: Note = None
    source: Annotated[str, Field(pattern=r"^[a-z_]{2,30}$")] = "customer_request"


class DoNotCallRead(BaseModel):
    customer_id: uuid.UUID
    reason: str | None
    source: str
    added_at: datetime
