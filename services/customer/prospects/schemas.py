"""HTTP models of potential customers (潜在客户), their visits and grades."""

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from services.customer.customers.schemas import Name, Phone
from shared.money import Money
from shared.requests import RequestModel


class LeadSource(StrEnum):
    REFERRAL = "referral"
    WALK_IN = "walk_in"
    EVENT = "event"
    CAMPAIGN = "campaign"
    WEB = "web"
    PARTNER = "partner"


class LeadCreate(RequestModel):
    name: Name
    kind: Literal["individual", "corporate"] = "individual"
    source: LeadSource
    estimated_value: Money
    phone: Phone | None = None
    branch_code: Annotated[str | None, Field(max_length=20)] = None
    manager_id: uuid.UUID | None = None
    referred_by: uuid.UUID | None = None


class LeadRead(BaseModel):
    id: uuid.UUID
    name: str
    kind: str
    source: str
    estimated_value_cny: Decimal
    grade: str
    branch_code: str | None
    manager_id: uuid.UUID | None
    status: str
    converted_customer_id: uuid.UUID | None


class VisitPlanCreate(RequestModel):
    planned_at: AwareDatetime
    purpose: Annotated[str, Field(min_length=1, max_length=300)]


class VisitOutcome(StrEnum):
    MET = "met"
    NO_SHOW = "no_show"
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    CONVERTED = "converted"


class VisitOutcomeRecord(RequestModel):
    outcome: VisitOutcome
    note: Annotated[str | None, Field(max_length=2000)] = None


class VisitPlanRead(BaseModel):
    id: uuid.UUID
    lead_id: uuid.UUID
    planned_at: datetime
    purpose: str
    outcome: str | None
    outcome_note: str | None
