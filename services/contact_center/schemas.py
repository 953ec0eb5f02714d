"""Request and response bodies of the contact centre's API.

Requests forbid unknown fields. ``at`` on a telephony or desk action is when the switch says
it happened (the CTI event time); it defaults to the moment the request arrives."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from contracts.complaints import ComplaintCategory
from contracts.contact_center import CallResult
from services.contact_center.models import Skill

AgentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_]{1,29}$", examples=["A-1001"])]
PhoneNumber = Annotated[str, Field(min_length=3, max_length=30, examples=["13812345678"])]
Note = Annotated[str | None, Field(max_length=2000)]
At = Annotated[AwareDatetime | None, Field(description="When it happened; now if not given.")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Timed(Strict):
    at: At = None


# --- Inbound calls ----------------------------------------------------------------------------


class VerifiedIdentity(Strict):
    """What the IVR checked with the caller's PIN. Used to look the customer up, never kept."""

    kind: Literal["resident_id", "card_number", "account_number"]
    value: Annotated[str, Field(min_length=5, max_length=32)]


class CallArrival(Timed):
    caller_number: PhoneNumber | None = Field(
        default=None, description="Absent when the caller withholds it."
    )
    dialled_number: Annotated[str, Field(pattern=r"^[0-9+]{3,20}$", examples=["95588"])]
    ivr_path: Annotated[list[Annotated[str, Field(max_length=10)]], Field(max_length=20)] = []
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


class ComplaintOnCall(Strict):
    category: ComplaintCategory
    description: Annotated[str, Field(min_length=5, max_length=4000)]


class CallbackOnCall(Strict):
    requested_for: AwareDatetime
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


# --- The screen pop ---------------------------------------------------------------------------


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
    open_opportunities: list[OpportunityCard]
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


# --- Agents and queues ------------------------------------------------------------------------


class AgentCreate(Timed):
    id: AgentId
    name: Annotated[str, Field(min_length=1, max_length=100)]
    skills: Annotated[list[Skill], Field(min_length=1, max_length=len(Skill))]

    @model_validator(mode="after")
    def _distinct_skills(self) -> "AgentCreate":
        if len(set(self.skills)) != len(self.skills):
            raise ValueError("skills must not repeat")
        return self


class AgentStateChange(Timed):
    state: Literal["available", "break", "offline"]


class AgentRead(BaseModel):
    id: str
    name: str
    skills: list[str]
    state: str
    state_since: datetime
    idle_since: datetime | None
    current_call_id: uuid.UUID | None


class AgentAfterChange(BaseModel):
    agent: AgentRead
    offered_call: CallRead | None


class QueueRead(BaseModel):
    queue: str
    waiting: int
    oldest_wait_seconds: float | None
    agents_staffed: int = Field(description="Signed in and not on a break.")
    agents_available: int
    estimated_wait_seconds: float | None = Field(
        description="For a caller joining now; null when no agent with the skill is staffed."
    )


# --- Callbacks --------------------------------------------------------------------------------


class CallbackCreate(Strict):
    customer_id: uuid.UUID | None = None
    phone_number: PhoneNumber
    requested_for: AwareDatetime
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


# --- Outbound ---------------------------------------------------------------------------------


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
    blocked_by: str | None = Field(
        description="The calling rule that stops a call now (no_consent, do_not_call, "
        "outside_calling_hours, retry_later, max_attempts, expired, customer_closed), or null."
    )


class CallList(BaseModel):
    items: list[OutboundEntryRead]
    within_calling_hours: bool
    calling_hours: str = Field(examples=["09:00-20:00 Asia/Shanghai"])


class DoNotCallRequest(Strict):
    reason: Note = None
    source: Annotated[str, Field(pattern=r"^[a-z_]{2,30}$")] = "customer_request"


class DoNotCallRead(BaseModel):
    customer_id: uuid.UUID
    reason: str | None
    source: str
    added_at: datetime


# --- Statistics -------------------------------------------------------------------------------


class QueueStats(BaseModel):
    queue: str
    offered: int = Field(description="Answered plus abandoned.")
    answered: int
    answered_within_threshold: int
    abandoned: int
    service_level: float | None = Field(description="Answered within the threshold / offered.")
    average_speed_of_answer_seconds: float | None
    average_handle_time_seconds: float | None = Field(description="Talk, hold and wrap-up.")
    abandonment_rate: float | None
    first_contact_resolution: float | None = Field(
        description="Share of handled calls with no repeat call on the same matter (wrap-up "
        "code) by the same customer within the window."
    )


class AgentStats(BaseModel):
    agent_id: str
    handled: int
    average_handle_time_seconds: float | None
    occupancy: float | None = Field(description="Busy time / (available + busy) time.")
    first_contact_resolution: float | None


class IntervalStats(BaseModel):
    start: datetime
    queues: list[QueueStats]


class StatsReport(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    service_level_seconds: float
    first_contact_window_days: int
    overall: QueueStats
    queues: list[QueueStats]
    agents: list[AgentStats]
    intervals: list[IntervalStats]

    model_config = ConfigDict(populate_by_name=True)


class LiveStats(BaseModel):
    at: datetime
    queues: list[QueueRead]
    agents_by_state: dict[str, int]
