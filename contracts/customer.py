"""Events the customer service publishes.

They carry identifiers and the facts consumers need, not personal data: identifiers travel as
keyed digests (HMAC-SHA256), which a channel service can match against a digest of what a
caller typed without ever holding the bank's list of ID numbers or phone numbers.
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from contracts.base import DomainEvent
from contracts.catalogue import EventType


class IdentifierDigest(BaseModel):
    kind: str
    digest: str


class CustomerRegistered(DomainEvent):
    event_type = EventType.CUSTOMER_REGISTERED
    customer_id: uuid.UUID
    kind: str
    branch_code: str | None
    value_tier: str
    identifiers: list[IdentifierDigest]
    consent: dict[str, bool]
    preferred_channel: str | None
    birth_month_day: str | None  # "MM-DD", for birthday triggers without the birth date


class CustomerUpdated(DomainEvent):
    event_type = EventType.CUSTOMER_UPDATED
    customer_id: uuid.UUID
    version: int
    status: str
    changed_fields: list[str]
    identifiers: list[IdentifierDigest]
    consent: dict[str, bool]
    preferred_channel: str | None


class CustomerErased(DomainEvent):
    """The customer's personal data was erased on their request. Every holder of data about
    the customer removes or anonymises what identifies them and keeps, de-identified, the
    records the bank must keep; the customer id itself stays a meaningless key."""

    event_type = EventType.CUSTOMER_ERASED
    customer_id: uuid.UUID
    request_reference: str
    erased_at: datetime


class Quadrant(StrEnum):
    """Satisfaction against loyalty: satisfied is not loyal (a satisfied customer may still be
    moving their money elsewhere), so a manager reads the two together. On the wire as the
    ``current`` of a ``segment_changed`` whose dimension is ``quadrant``."""

    SATISFIED_LOYAL = "satisfied_loyal"
    SATISFIED_DRIFTING = "satisfied_drifting"
    DISSATISFIED_LOYAL = "dissatisfied_loyal"
    DISSATISFIED_DRIFTING = "dissatisfied_drifting"


class AttritionBand(StrEnum):
    """The customer's attrition risk, learned from observed attrition, by configured cut-offs.
    On the wire as the ``current`` of a ``segment_changed`` whose dimension is
    ``attrition_risk``."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# The ``current`` of a quadrant change that takes a customer out of every quadrant: no survey
# answer in the satisfaction index's window any more, or neither loyal nor drifting.
UNPLACED = "unplaced"


class CustomerSegmentChanged(DomainEvent):
    """A customer moved in one dimension: value_tier, loyalty, usage_density, lifecycle_stage,
    quadrant (satisfied_loyal, satisfied_drifting, dissatisfied_loyal, dissatisfied_drifting,
    or unplaced once in none), or attrition_risk (low, medium, high: the learned risk's band,
    moved by the valuation batch), each published in the transaction that changed it."""

    event_type = EventType.CUSTOMER_SEGMENT_CHANGED
    customer_id: uuid.UUID
    dimension: str
    previous: str | None
    current: str
    direction: str  # "upgrade", "downgrade", "initial" or "lateral"
    reason: str
    policy: dict[str, str | int | bool] | None  # the tier's service policy, for value tiers
    effective_at: datetime


class AccountOpened(DomainEvent):
    event_type = EventType.ACCOUNT_OPENED
    customer_id: uuid.UUID
    account_number: str
    product_type: str
    product_code: str
    currency: str
    opened_on: date
    maturity_date: date | None
    payoff_date: date | None


class AccountClosed(DomainEvent):
    event_type = EventType.ACCOUNT_CLOSED
    customer_id: uuid.UUID
    account_number: str
    product_type: str
    closed_on: date
    paid_off: bool  # a loan closed by repayment


class TransactionPosted(DomainEvent):
    event_type = EventType.TRANSACTION_POSTED
    customer_id: uuid.UUID
    transaction_id: str
    account_number: str
    product_type: str
    direction: str
    amount: Decimal
    currency: str
    balance_after: Decimal
    kind: str
    channel: str
    counterparty_bank: str | None
    booked_at: datetime


class TransactionReversed(DomainEvent):
    """Core banking reversed a posted transaction (冲正): its amount moved back out of (or into)
    the account. A correction is a reversal and a new transaction with the right amount."""

    event_type = EventType.TRANSACTION_REVERSED
    customer_id: uuid.UUID
    reversal_id: str
    transaction_id: str  # the reversed transaction's
    account_number: str
    product_type: str
    direction: str  # the reversed transaction's
    amount: Decimal
    currency: str
    balance_after: Decimal  # the account's, once reversed
    kind: str
    reason: str
    booked_at: datetime  # when the reversal was booked
    # When the reversed transaction was booked: consumers keeping figures by day take the
    # movement out of that day's. Absent from reversals published before it was added.
    reversed_booked_at: datetime | None = None


class InteractionRecorded(DomainEvent):
    event_type = EventType.INTERACTION_RECORDED
    customer_id: uuid.UUID
    interaction_id: uuid.UUID
    channel: str
    kind: str
    occurred_at: datetime


class CustomerManagerAssigned(DomainEvent):
    event_type = EventType.CUSTOMER_MANAGER_ASSIGNED
    customer_id: uuid.UUID
    manager_id: uuid.UUID
    previous_manager_id: uuid.UUID | None
    branch_code: str
    reason: str


class CustomerUnserved(DomainEvent):
    """A customer whose tier requires a manager has none, and no active manager has room: the
    branch head is to find one (the customer stays on ``/v1/analytics/unserved`` until then)."""

    event_type = EventType.CUSTOMER_UNSERVED
    customer_id: uuid.UUID
    branch_code: str | None
    value_tier: str
    reason: str
    since: datetime


class LeadConverted(DomainEvent):
    event_type = EventType.LEAD_CONVERTED
    customer_id: uuid.UUID
    lead_id: uuid.UUID
    source: str
    grade: str
    referred_by: uuid.UUID | None


class SurveyAnswered(DomainEvent):
    event_type = EventType.SURVEY_ANSWERED
    customer_id: uuid.UUID
    survey_id: uuid.UUID
    channel: str
    csat: int | None
    nps: int | None
    satisfaction_index: Decimal | None
    answered_at: datetime
