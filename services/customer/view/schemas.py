"""The 360 view's answer and the segments as they were at a moment, with why."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from contracts.customer import Quadrant
from services.customer.accounts.schemas import AccountRead, TransactionRead
from services.customer.customers.schemas import CustomerRead
from services.customer.groups.schemas import GroupMembershipRead
from services.customer.interactions.schemas import InteractionRead
from services.customer.relationships.schemas import RelationshipRead


class SegmentChangeRead(BaseModel):
    dimension: str
    previous: str | None
    current: str
    reason: str
    effective_at: datetime


class SegmentsAsOf(BaseModel):
    as_of: datetime
    segments: dict[str, SegmentChangeRead | None]
    policy: dict[str, Any] | None


class MonthlyFigures(BaseModel):
    month: date
    currency: str
    money_in: Decimal
    money_out: Decimal
    transaction_count: int


class CustomerValue(BaseModel):
    """The customer's worth to the bank (docs/customer-value.md gives the model)."""

    assets_cny: Decimal
    loans_cny: Decimal
    yearly_contribution_cny: Decimal
    retention: Decimal
    retention_source: Literal["attrition_model", "loyalty_table"] = Field(
        description="Where the retention comes from: the learned attrition risk over a year, "
        "once the model has learned enough attritions, else the fixed table by loyalty."
    )
    lifetime_value_cny: Decimal


class AttritionContribution(BaseModel):
    predictor: str
    bin: str = Field(description="The customer's bin of the predictor when the risk was read.")
    log_odds: float = Field(description="What the bin adds to the log-odds of attriting.")


class AttritionRiskRead(BaseModel):
    """The chance the customer leaves within the model's horizon, learned from observed
    attrition (docs/customer-value.md), and why."""

    probability: float
    band: Literal["low", "medium", "high"]
    contributions: list[AttritionContribution] = Field(
        description="Each active predictor's contribution, the largest (either way) first; "
        "empty while the model has too few attritions to trust any predictor."
    )
    evidence_responses: int = Field(description="Observations the model had learned.")
    evidence_attritions: int = Field(description="Of which attrited.")
    computed_at: datetime


class OpenComplaintRead(BaseModel):
    complaint_id: uuid.UUID
    category: str
    priority: str
    step: str
    received_at: datetime
    due_at: datetime | None
    escalation_level: int


class OpenOpportunityRead(BaseModel):
    opportunity_id: uuid.UUID
    action: str
    product: str | None
    priority: int
    status: str
    owner: str
    due_at: datetime
    expires_at: datetime


class CustomerView(BaseModel):
    """What a channel shows of a customer, in one answer."""

    customer: CustomerRead
    accounts: list[AccountRead]
    total_balance_cny: Decimal
    fee_discount_percent: Decimal = Field(
        description="The discount on fees the customer's tier policy grants, for the channel "
        "to apply."
    )
    value: CustomerValue
    attrition_risk: AttritionRiskRead | None = Field(
        description="As the valuation batch last read it; null before its first run."
    )
    satisfaction_index: Decimal | None
    quadrant: Quadrant | None = Field(
        description="Satisfaction against loyalty, as /v1/analytics/drifting reads them; null "
        "without a survey answer in the last year or for a non-cooperative customer."
    )
    relationships: list[RelationshipRead]
    group: GroupMembershipRead | None = Field(
        description="The household or corporate group the customer belongs to now; its "
        "members and roll-up at /v1/customer-groups/{group_id}."
    )
    open_complaints: list[OpenComplaintRead]
    open_opportunities: list[OpenOpportunityRead]
    recent_transactions: list[TransactionRead]
    recent_interactions: list[InteractionRead]
    monthly_figures: list[MonthlyFigures]


class ViewChange(BaseModel):
    """One field of the view that changed after the moment asked, as the view shows it (masked
    where the view masks)."""

    field: str = Field(description="Its path in the view, e.g. customer.manager_id.")
    old: Any
    new: Any
    at: datetime


class CustomerViewAsOf(BaseModel):
    """The 360 view's profile, accounts and balances, segments, manager, relationships and
    group as they stood at ``as_of``, and what changed since."""

    as_of: datetime = Field(description="The moment read; a moment in the future is now.")
    history_complete_from: datetime = Field(
        description="Since when every change is known. Before it, the view shows the state "
        "known at that time (accounts and ties not yet begun left out) and is not complete."
    )
    history_complete: bool
    customer: CustomerRead
    accounts: list[AccountRead]
    total_balance_cny: Decimal
    fee_discount_percent: Decimal
    relationships: list[RelationshipRead]
    group: GroupMembershipRead | None
    attrition_risk: SegmentChangeRead | None = Field(
        description="The attrition risk band in force then, with the probability and the "
        "predictors that moved it there (its reason); null before the first risk was read."
    )
    changed_since: list[ViewChange] = Field(
        description="Every change after as_of until now, oldest first."
    )
