"""The next best actions' HTTP models."""

import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class ActionFactors(BaseModel):
    """Why the entry stands where it does: expected_value = propensity × value × weight."""

    propensity: Decimal = Field(description="The chance the customer accepts (0–1).")
    value: Decimal = Field(description="An accepted offer's yearly contribution, CNY.")
    weight: Decimal = Field(description="The bank's business weight of the action.")
    expected_value: Decimal


class NextBestAction(BaseModel):
    rank: int = Field(ge=1)
    action_id: str
    name: str
    kind: str
    product: str | None
    source: Literal["opportunity", "always_on"]
    opportunity_id: uuid.UUID | None
    rule_id: str | None
    channels: list[str] = Field(description="Where the action may be offered.")
    factors: ActionFactors


class WithheldAction(BaseModel):
    action_id: str
    opportunity_id: uuid.UUID | None
    reason: Literal[
        "customer_erased",
        "customer_not_active",
        "not_on_channel",
        "open_complaint",
        "no_consent",
        "contact_fatigue",
    ]


class NextBestActions(BaseModel):
    customer_id: uuid.UUID
    channel: str | None
    items: list[NextBestAction] = Field(
        description="Service recovery first, then the offers by expected value, highest first."
    )
    withheld: list[WithheldAction] = Field(
        description="What may not be offered now, and why: never ranked."
    )
