"""Request and response bodies of the outbound call list and the do-not-call register."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

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
    priority: int = Field(
        description="The opportunity's rule priority: the call list's order only when the "
        "next-best-action ranking cannot be had."
    )
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


class CallListEntry(OutboundEntryRead):
    expected_value: Decimal | None = Field(
        description="The entry's expected value as the next-best-action ranking computes it "
        "for the phone (propensity × value × weight, CNY), by which the list is ordered; null "
        "when the ranking does not know the opportunity yet or could not be had."
    )


class CallList(BaseModel):
    items: list[CallListEntry]
    ordered_by: Literal["next_best_action", "priority"] = Field(
        description="next_best_action: the events service's ranking, service recovery first, "
        "then expected value, then the earliest due (entries it does not know yet follow, by "
        "priority; entries it withholds are left off). priority: the ranking could not be had "
        "in time, and the list is by the opportunity's priority, then the earliest due."
    )
    degraded: list[str] = Field(description="Sources that did not answer in time.")
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
