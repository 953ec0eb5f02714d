"""HTTP models of the contacts on a customer's timeline."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from shared.requests import RequestModel


class InteractionCreate(RequestModel):
    external_id: Annotated[str, Field(min_length=1, max_length=100)]
    customer_id: uuid.UUID
    channel: Literal["atm", "web", "mobile", "branch", "phone"]
    kind: Annotated[str, Field(min_length=1, max_length=40, examples=["balance_enquiry"])]
    summary: Annotated[str | None, Field(max_length=2000)] = None
    occurred_at: AwareDatetime


class InteractionRead(BaseModel):
    id: uuid.UUID
    channel: str
    kind: str
    summary: str | None
    occurred_at: datetime
    source: str
