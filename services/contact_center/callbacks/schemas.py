"""Request and response bodies of the callbacks."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.contact_center.models import Skill
from services.contact_center.schemas import AgentId, CallbackTime, Note, PhoneNumber, Timed
from shared.requests import RequestModel


class CallbackCreate(RequestModel):
    customer_id: uuid.UUID | None = None
    phone_number: PhoneNumber
    requested_for: CallbackTime
    queue: Skill = Skill.GENERAL
    agent_id: AgentId | None = None
    note: Note = None


class CallbackAttempt(Timed):
    agent_id: AgentId
    result: Literal["reached", "no_answer", "wrong_number"]


class CallbackRead(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID | None
    call_id: uuid.UUID | None
    phone_number: str = Field(description="Masked.")
    requested_for: datetime
    next_attempt_at: datetime
    queue: str
    agent_id: str | None
    note: str | None
    attempts: int
    max_attempts: int
    status: str
    last_result: str | None
