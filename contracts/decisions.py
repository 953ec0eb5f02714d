"""Events the events service publishes on ``crm.decisions.v1``: each next-best-action ranking
it served, as its decision log keeps it, and each response recorded against one.

Together they are the decision log on the bus: a consumer can measure the ranking, replay the
learning or evaluate a candidate strategy off-line without reading the service's tables. They
carry identifiers, binned features (codes such as the value tier) and figures: never a name,
a number or an address."""

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from contracts.base import DomainEvent
from contracts.catalogue import EventType


class RankedAction(BaseModel):
    """One entry of a served ranking, as the decision log keeps it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action_id: str
    rank: int  # 1 is the offer made first
    opportunity_id: uuid.UUID | None  # None for an always-on offer
    propensity: Decimal  # what the ranking used: the estimate, or a posterior draw if explored
    model_estimate: Decimal  # the action's model's mean for this customer
    expected_value: Decimal  # propensity × value × the bank's weight, CNY a year
    first_choice_probability: Decimal  # how likely the policy was to put this action first


class NextBestActionDecided(DomainEvent):
    event_type = EventType.NEXT_BEST_ACTION_DECIDED
    decision_id: uuid.UUID
    customer_id: uuid.UUID
    channel: str | None  # None: asked for no channel in particular
    served_at: datetime
    explored: bool
    # The customer's binned features as the decision saw them (tier, loyalty, lifecycle stage,
    # quadrant, products held, recency, balance trend, channel): what the responses are
    # learned from.
    features: dict[str, str]
    # The responses each ranked action's model had learned from: its version.
    model_versions: dict[str, int]
    entries: list[RankedAction]


class NextBestActionResponded(DomainEvent):
    """A response recorded once on a decision's entry, and learned by the action's model: a
    response sent again teaches nothing and is not published again. ``expired`` is the bank's
    record of an offer nobody answered in time."""

    event_type = EventType.NEXT_BEST_ACTION_RESPONDED
    decision_id: uuid.UUID
    action_id: str
    # None once the customer was erased on their request; the event is then keyed by the
    # decision id.
    customer_id: uuid.UUID | None
    opportunity_id: uuid.UUID | None
    outcome: str  # "accepted", "declined", "no_answer", "expired"
    responded_at: datetime

    @property
    def subject(self) -> str:
        return str(self.customer_id or self.decision_id)
