"""Request and response bodies of the calls: the arrival, the desk's actions, the call as read,
and the screen pop."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.complaints import ComplaintCategory
from services.contact_center.models import Skill
from services.contact_center.schemas import AgentId, CallbackTime, Note, PhoneNumber, Timed
from shared.requests import RequestModel


class VerifiedIdentity(RequestModel):
    """What the IVR checked with the caller's PIN. Used to look the customer up, never kept."""

    kind: Literal["resident_id", "card_number", "account_number"]
    value: Annotated[str, Field(min_length=5, max_length=32)]


class CallArrival(Timed):
    caller_number: PhoneNumber | None = Field(
        default=None, description="Absent when the caller withholds it."
    )
    dialled_number: Annotated[str, Field(pattern=r"^[0-9+]{3,20}$", examples=["95588"])]
    ivr_path: Annotated[list[Annotated[str, Field(max_length=10)]], Field(max_length=20)] = []  # noqa: RUF012 (pydantic copies it)
    verified_identity: VerifiedIdentity | None = None
    queue: Skill | None = Field(default=None, description="The queue the IVR chose, if it did.")


class AnswerCall(Timed):
    agent_id: AgentId


class Transfer(Timed):
    queue: Skill | None = None
    agent_id: AgentId | None = None

    @model_validator(mode="after")
    def _one_target(self) -> "Transfer":
        if (self.queue is None) == (self.agent_id is None):
            raise ValueError("give exactly one of queue and agent_id")
        return self


class ComplaintOnCall(RequestModel):
    category: ComplaintCategory
    description: Annotated[str, Field(min_length=5, max_length=4000)]


class CallbackOnCall(RequestModel):
    requested_for: CallbackTime
    # Required: the caller's number is kept only masked, so the desk passes on the number
    # the customer asked to be called on.
    phone_number: PhoneNumber
    queue: Skill | None = None
    agent_id: AgentId | None = None
    note: Note = None


class WrapUp(Timed):
    wrap_up_code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", examples=["card_lost"])]
    notes: Note = None
    resolved: bool = True
    complaint: ComplaintOnCall | None = None
    callback: CallbackOnCall | None = None


class CallRead(BaseModel):
    id: uuid.UUID
    direction: str
    status: str
    queue: str
    priority: int = Field(description="0 is served first.")
    customer_id: uuid.UUID | None
    identified_by: str
    value_tier: str | None
    caller_number: str | None = Field(description="Masked.")
    agent_id: str | None
    arrived_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    position: int | None = Field(description="Place in the queue while waiting; 1 is next.")
    estimated_wait_seconds: float | None
    transfers: int
    wrap_up_code: str | None
    complaint_requested: bool
    callback_id: uuid.UUID | None


class _FromCustomerService(BaseModel):
    # Parsed from the customer service's view: fields added there later are left out here
    # until this service chooses to show them.
    model_config = ConfigDict(extra="ignore")


class ProfileCard(_FromCustomerService):
    name: str = Field(description="Masked for individuals.")
    kind: str
    status: str
    branch_code: str | None
    manager_id: uuid.UUID | None
    preferred_channel: str | None


class ProductCard(_FromCustomerService):
    account_number: str = Field(description="Masked: only the last four digits.")
    product_type: str
    product_code: str
    currency: str
    balance: Decimal
    status: str
    maturity_date: date | None = None
    payoff_date: date | None = None
    card_last_four: str | None = None


class InteractionCard(_FromCustomerService):
    channel: str
    kind: str
    summary: str | None
    occurred_at: datetime


class ComplaintCard(_FromCustomerService):
    complaint_id: uuid.UUID
    category: str
    priority: str
    step: str
    due_at: datetime | None


class OpportunityCard(_FromCustomerService):
    opportunity_id: uuid.UUID
    action: str
    product: str | None
    priority: int
    status: str
    due_at: datetime
    script: str | None = Field(default=None, description="What the agent may say.")


class _FromEventsService(BaseModel):
    # Parsed from the events service's ranking: what it adds later (the decision it logged,
    # new factors) is left out here until this service chooses to show it.
    model_config = ConfigDict(extra="ignore")


class ActionFactorsCard(_FromEventsService):
    """Why the action stands where it does: expected_value = propensity × value × weight."""

    propensity: Decimal
    value: Decimal = Field(description="An accepted offer's yearly contribution, CNY.")
    weight: Decimal = Field(description="The bank's business weight of the action.")
    expected_value: Decimal


class NextBestActionCard(_FromEventsService):
    rank: int = Field(ge=1, description="1 is offered first.")
    action_id: str
    name: str
    kind: str
    product: str | None
    opportunity_id: uuid.UUID | None = Field(description="Null for an always-on offer.")
    factors: ActionFactorsCard
    script: str | None = Field(default=None, description="What the agent may say.")


class WithheldActionCard(_FromEventsService):
    action_id: str
    opportunity_id: uuid.UUID | None
    reason: str


class Ranking(_FromEventsService):
    """The events service's answer for one customer."""

    decision_id: uuid.UUID | None = None
    items: list[NextBestActionCard]
    withheld: list[WithheldActionCard] = []


class TierPolicyCard(BaseModel):
    queue_priority: int
    route_to_vip_queue: bool


class ScreenPop(BaseModel):
    """What the agent's desktop shows as the call rings."""

    customer_id: uuid.UUID | None
    identified_by: str
    value_tier: str | None
    policy: TierPolicyCard
    profile: ProfileCard | None
    total_balance_cny: Decimal | None
    products: list[ProductCard]
    recent_interactions: list[InteractionCard]
    open_complaints: list[ComplaintCard]
    next_best_actions: list[NextBestActionCard] = Field(
        description="What to offer, in this order: the events service's next-best-action "
        "ranking for the phone (service recovery first, then expected value), with only what "
        "may be offered now. Agents offer from this list, first entry first."
    )
    next_best_decision_id: uuid.UUID | None = Field(
        default=None,
        description="The events service's decision these actions come from: the desktop "
        "records the customer's answer to the offer at the events service's "
        "POST /v1/decisions/{decision_id}/responses, which is what its models learn from.",
    )
    open_opportunities: list[OpportunityCard] = Field(
        description="Every open opportunity of the customer, unranked and unfiltered, as the "
        "customer view lists them: for reference; offer from next_best_actions."
    )
    degraded: list[str] = Field(
        description="Sources that did not answer in time; the rest of the pop is still right."
    )


class CallArrived(BaseModel):
    call: CallRead
    screen_pop: ScreenPop


class CallAndNext(BaseModel):
    call: CallRead
    next_call: CallRead | None = Field(
        description="The call now offered to the agent this action freed, if one was waiting."
    )


class CallAfterWrapUp(CallAndNext):
    callback_id: uuid.UUID | None
