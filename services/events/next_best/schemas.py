"""The next best actions' HTTP models."""

import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class ActionFactors(BaseModel):
    """Why the entry stands where it does: expected_value = propensity × value × weight."""

    propensity: Decimal = Field(
        description="The chance the customer accepts (0–1) the ranking used: the model's "
        "estimate, or a draw from its posterior when the decision explored."
    )
    value: Decimal = Field(description="An accepted offer's yearly contribution, CNY.")
    weight: Decimal = Field(description="The bank's business weight of the action.")
    expected_value: Decimal


class ModelEvidence(BaseModel):
    """What the action's adaptive model knows (docs/next-best-action.md)."""

    estimate: float = Field(ge=0, le=1, description="The model's propensity for this customer.")
    responses: int = Field(ge=0, description="The responses it has learned from (its version).")
    predictors: dict[str, float] = Field(
        description="The log-odds each active predictor adds for this customer's bin."
    )
    first_choice_probability: float = Field(
        ge=0, le=1, description="How likely the policy was to put this action first."
    )


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
    model: ModelEvidence


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
        "ramping_up",
    ]


class NextBestActions(BaseModel):
    decision_id: uuid.UUID = Field(
        description="The decision kept in the log: record the customer's response to it at "
        "POST /v1/decisions/{decision_id}/responses."
    )
    explored: bool = Field(
        description="The ranking used draws from the models' posteriors (exploration)."
    )
    customer_id: uuid.UUID
    channel: str | None
    items: list[NextBestAction] = Field(
        description="Service recovery first, then the offers by expected value, highest first."
    )
    withheld: list[WithheldAction] = Field(
        description="What may not be offered now, and why: never ranked."
    )
