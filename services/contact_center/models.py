"""The contact_center service's tables, in its own schema.

What it keeps of other services comes from their events: the customers (identifier digests,
tier and its policy, consent) and the opportunities the contact centre is to call about. Its
own records are the agents and their state history, calls and their legs (one per queue a
call waited in), callbacks, the outbound call list and the do-not-call register."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import ServiceBase, new_metadata

TIME = DateTime(timezone=True)


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class Skill(StrEnum):
    """A queue is a skill: a call waits in one, an agent serves the ones they have."""

    GENERAL = "general"
    CARDS = "cards"
    LOANS = "loans"
    WEALTH = "wealth"
    COMPLAINTS = "complaints"
    VIP = "vip"
    # Simulated traffic (`crm simulate-calls`) and training: no real caller is routed here, so
    # a simulation measures only its own agents and calls.
    SIMULATION = "simulation"


class AgentState(StrEnum):
    AVAILABLE = "available"
    ON_CALL = "on_call"  # offered, talking or holding
    WRAP_UP = "wrap_up"
    BREAK = "break"
    OFFLINE = "offline"


# States an agent sets themselves; the others follow from the calls they take.
SELF_SET_STATES = frozenset({AgentState.AVAILABLE, AgentState.BREAK, AgentState.OFFLINE})
# Occupancy: time working a call over time signed in and not on a break.
BUSY_STATES = frozenset({AgentState.ON_CALL, AgentState.WRAP_UP})
STAFFED_STATES = frozenset({AgentState.AVAILABLE, *BUSY_STATES})


class CallStatus(StrEnum):
    WAITING = "waiting"  # in a queue
    OFFERED = "offered"  # reserved for an agent, ringing at their desk
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    WRAP_UP = "wrap_up"  # the line is closed, the agent is finishing the record
    COMPLETED = "completed"
    ABANDONED = "abandoned"  # the caller hung up before an agent answered


class IdentifiedBy(StrEnum):
    VERIFIED_IDENTITY = "verified_identity"  # the IVR checked a card or ID with its PIN
    CALLER_NUMBER = "caller_number"
    CUSTOMER_SERVICE_LOOKUP = "customer_service_lookup"  # not yet in our projection
    UNKNOWN = "unknown"


class LegOutcome(StrEnum):
    WAITING = "waiting"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TRANSFERRED = "transferred"


class KnownCustomer(Base):
    """What ``crm.customer.v1`` says about a customer that routing and calling rules need."""

    __tablename__ = "known_customers"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    value_tier: Mapped[str | None] = mapped_column(String(20))
    # From the tier's service policy: 0 is served first; premium may go to the VIP queue.
    queue_priority: Mapped[int | None] = mapped_column(Integer)
    route_to_vip_queue: Mapped[bool] = mapped_column(default=False)
    consent: Mapped[dict[str, bool]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")
    updated_at: Mapped[datetime] = mapped_column(TIME)


class CustomerIdentifier(Base):
    """A keyed digest of an identifier (phone, ID number) and whose it is."""

    __tablename__ = "customer_identifiers"
    __table_args__ = (Index("ix_customer_identifiers_customer", "customer_id"),)

    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (
        Index("ix_agents_available", "idle_since", postgresql_where="state = 'available'"),
    )

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    skills: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    state: Mapped[str] = mapped_column(String(10))
    state_since: Mapped[datetime] = mapped_column(TIME)
    # When the agent last became free: the longest idle is offered the next call.
    idle_since: Mapped[datetime | None] = mapped_column(TIME)
    current_call_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    created_at: Mapped[datetime] = mapped_column(TIME)


class AgentStateSpell(Base):
    """A period an agent spent in one state; ``ended_at`` is null for the current one."""

    __tablename__ = "agent_state_spells"
    __table_args__ = (Index("ix_agent_state_spells_agent", "agent_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(TIME)
    ended_at: Mapped[datetime | None] = mapped_column(TIME)


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_customer", "customer_id", "arrived_at"),
        Index("ix_calls_arrived", "arrived_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    direction: Mapped[str] = mapped_column(String(10))  # "inbound" or "callback"
    caller_number_masked: Mapped[str | None] = mapped_column(String(30))
    dialled_number: Mapped[str] = mapped_column(String(30))
    ivr_path: Mapped[list[str]] = mapped_column(JSONB)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    identified_by: Mapped[str] = mapped_column(String(30))
    value_tier: Mapped[str | None] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer)
    queue: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    agent_id: Mapped[str | None] = mapped_column(String(30))
    arrived_at: Mapped[datetime] = mapped_column(TIME)
    # When the current stretch in a queue began (the arrival, or the last transfer).
    queued_at: Mapped[datetime] = mapped_column(TIME)
    answered_at: Mapped[datetime | None] = mapped_column(TIME)
    released_at: Mapped[datetime | None] = mapped_column(TIME)  # the line closed
    ended_at: Mapped[datetime | None] = mapped_column(TIME)  # completed or abandoned
    last_event_at: Mapped[datetime] = mapped_column(TIME)
    hold_started_at: Mapped[datetime | None] = mapped_column(TIME)
    hold_seconds: Mapped[float] = mapped_column(default=0.0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    wrap_up_code: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    resolved: Mapped[bool | None] = mapped_column()
    complaint_requested: Mapped[bool] = mapped_column(default=False)
    callback_id: Mapped[uuid.UUID | None] = mapped_column(UUID)


class CallLeg(Base):
    """A call's stretch in one queue and with the agent who took it from there: the unit of
    the queue statistics (speed of answer, service level, abandonment) and of handle time."""

    __tablename__ = "call_legs"
    __table_args__ = (
        Index("ix_call_legs_call", "call_id", "id"),
        Index("ix_call_legs_queued", "queued_at"),
        Index(
            "ix_call_legs_waiting",
            "priority",
            "queued_at",
            postgresql_where="outcome = 'waiting' AND agent_id IS NULL",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    call_id: Mapped[uuid.UUID] = mapped_column(UUID)
    queue: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer)
    queued_at: Mapped[datetime] = mapped_column(TIME)
    agent_id: Mapped[str | None] = mapped_column(String(30))
    offered_at: Mapped[datetime | None] = mapped_column(TIME)
    answered_at: Mapped[datetime | None] = mapped_column(TIME)
    released_at: Mapped[datetime | None] = mapped_column(TIME)
    wrapped_at: Mapped[datetime | None] = mapped_column(TIME)
    outcome: Mapped[str] = mapped_column(String(12))


class CallbackStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    FAILED = "failed"  # wrong number, or out of attempts
    CANCELLED = "cancelled"


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_due", "next_attempt_at", postgresql_where="status = 'scheduled'"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    call_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    # The number the customer asked to be called on: needed to dial, shown masked.
    phone_number: Mapped[str] = mapped_column(String(20))
    requested_for: Mapped[datetime] = mapped_column(TIME)
    next_attempt_at: Mapped[datetime] = mapped_column(TIME)
    queue: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    last_result: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(TIME)


class OutboundStatus(StrEnum):
    PENDING = "pending"  # to be called (now, or after a retry interval)
    DONE = "done"  # a final result: accepted, declined or wrong number
    EXHAUSTED = "exhausted"  # out of attempts
    WITHDRAWN = "withdrawn"  # the opportunity closed elsewhere or expired


class OutboundEntry(Base):
    """A call-list entry: an opportunity the contact centre owns, to be called about."""

    __tablename__ = "outbound_entries"
    __table_args__ = (
        Index(
            "ix_outbound_entries_list",
            "priority",
            "due_at",
            postgresql_where="status = 'pending'",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    opportunity_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID)
    rule_id: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(30))
    product: Mapped[str | None] = mapped_column(String(60))
    priority: Mapped[int] = mapped_column(Integer)  # the opportunity's: higher is called first
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    due_at: Mapped[datetime] = mapped_column(TIME)
    expires_at: Mapped[datetime] = mapped_column(TIME)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TIME)
    last_result: Mapped[str | None] = mapped_column(String(20))
    # Why it left the list without being settled here: the opportunity's outcome elsewhere
    # (complaint_received:<id>, transaction_reversed:…), opportunity_<status>, or erasure.
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TIME)


class DoNotCall(Base):
    """Customers who asked not to be called for sales (a register kept by the contact centre;
    marketing consent per channel comes from the customer service on top of it)."""

    __tablename__ = "do_not_call"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(30))
    added_at: Mapped[datetime] = mapped_column(TIME)
