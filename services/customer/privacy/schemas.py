"""HTTP models of a customer's rights over their data: consent, access request, erasure."""

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field

from services.customer.customers.schemas import Channel, Consent
from shared.requests import RequestModel, Version


class ConsentChange(RequestModel):
    """The customer's say on marketing by one or more channels, and where they said it."""

    version: Version
    channels: Annotated[Consent, Field(min_length=1)]
    source: Channel = Field(description="The channel the customer gave or withdrew it through")
    given_at: AwareDatetime | None = Field(
        default=None, description="When the customer said so; now if left out. Not in the future."
    )


class ConsentRead(BaseModel):
    channel: str
    granted: bool
    at: datetime
    source: str
    recorded_by: str | None


class CustomerConsent(BaseModel):
    customer_id: uuid.UUID
    version: int
    channels: list[ConsentRead]


class ErasureRequest(RequestModel):
    version: Version
    reference: Annotated[
        str, Field(min_length=1, max_length=100, description="The request's case reference")
    ]


class CustomerExport(BaseModel):
    """Everything this service holds about one customer, unmasked: an access request's
    answer. Cards appear as their last four digits: the full number is never stored."""

    customer: dict[str, Any]
    consent: list[ConsentRead]
    accounts: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
    interactions: list[dict[str, Any]]
    survey_answers: list[dict[str, Any]]
    segment_history: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    external_holdings: list[dict[str, Any]] = Field(
        description="What the customer declared holding at other institutions."
    )
    relationships: list[dict[str, Any]]
    leads: list[dict[str, Any]]
    history: list[dict[str, Any]] = Field(
        description="Each past state of the profile, accounts, relationships and group, as "
        "the 360 view as of a moment reads them."
    )
    attrition_observations: list[dict[str, Any]] = Field(
        description="The monthly observations the attrition model keeps: the features as "
        "they were, and the outcome once learned."
    )
    attrition_risk: list[dict[str, Any]] = Field(
        description="The attrition risk as last read, and why (at most one)."
    )
    exported_at: datetime
