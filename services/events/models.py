"""The events service's tables, in its own schema: rules and their versions, each customer's
state, the history it consumed, the opportunities and every firing."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import ServiceBase, new_metadata

MONEY = Numeric(20, 2)


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class RuleVersion(Base):
    """One version of a rule. ``status``: draft, active, shadow or retired; at most one active
    and one shadow version per rule, which the partial unique indexes enforce."""

    __tablename__ = "rule_versions"
    __table_args__ = (
        Index(
            "uq_rule_versions_active", "rule_id", unique=True, postgresql_where="status = 'active'"
        ),
        Index(
            "uq_rule_versions_shadow", "rule_id", unique=True, postgresql_where="status = 'shadow'"
        ),
    )

    rule_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    built_in: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Rule(Base):
    __tablename__ = "rules"

    rule_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CustomerProfile(Base):
    __tablename__ = "customer_profiles"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    value_tier: Mapped[str | None] = mapped_column(String(20))
    quadrant: Mapped[str | None] = mapped_column(String(30))
    attrition_risk: Mapped[str | None] = mapped_column(String(10))
    loyalty: Mapped[str | None] = mapped_column(String(20))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20))
    manager_id: Mapped[str | None] = mapped_column(String(40))
    consent: Mapped[dict[str, bool]] = mapped_column(JSONB)
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    birth_month_day: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(10))
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    open_complaints: Mapped[int] = mapped_column(Integer)
    # Drawn anew by each transaction that saves the state (this row and its days, holdings and
    # recurring credits): a state kept in memory is current while this is the one it wrote.
    state_version: Mapped[int | None] = mapped_column(BigInteger)


class CustomerDay(Base):
    __tablename__ = "customer_days"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    money_in: Mapped[Decimal] = mapped_column(MONEY)
    money_out: Mapped[Decimal] = mapped_column(MONEY)
    count_in: Mapped[int] = mapped_column(Integer)
    count_out: Mapped[int] = mapped_column(Integer)
    max_in: Mapped[Decimal] = mapped_column(MONEY)
    max_out: Mapped[Decimal] = mapped_column(MONEY)
    contacts: Mapped[int] = mapped_column(Integer)
    closing_balance: Mapped[Decimal | None] = mapped_column(MONEY)
    conversations: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class CustomerHolding(Base):
    __tablename__ = "customer_holdings"
    __table_args__ = (Index("ix_customer_holdings_maturity", "maturity_date"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_type: Mapped[str] = mapped_column(String(20))
    balance: Mapped[Decimal] = mapped_column(MONEY)
    maturity_date: Mapped[date | None] = mapped_column(Date)
    open: Mapped[bool] = mapped_column()


class CustomerRecurringCredit(Base):
    __tablename__ = "customer_recurring_credits"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    source: Mapped[str] = mapped_column(String(140), primary_key=True)
    last_month: Mapped[date] = mapped_column(Date)
    streak: Mapped[int] = mapped_column(Integer)


class ObservedEvent(Base):
    """Every event the detector consumed, with where it read it: lineage and backtests."""

    __tablename__ = "observed_events"
    __table_args__ = (
        Index("ix_observed_events_time", "occurred_at"),
        Index("ix_observed_events_consumed", "consumed_seq"),
    )

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID)
    event_name: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    topic: Mapped[str | None] = mapped_column(String(100))
    partition: Mapped[int | None] = mapped_column(Integer)
    offset: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The order the detector consumed the events in (backtests replay in it).
    consumed_seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False))


class Opportunity(Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_customer", "customer_id", "created_at"),
        Index("ix_opportunities_owner", "owner", "status", "due_at"),
        Index("ix_opportunities_rule", "rule_id", "created_at"),
        Index(
            "ix_opportunities_open_expiry",
            "expires_at",
            postgresql_where="status IN ('open', 'in_contact')",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID)
    rule_id: Mapped[str] = mapped_column(String(60))
    rule_version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    product: Mapped[str | None] = mapped_column(String(60))
    priority: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str | None] = mapped_column(Text)
    control_group: Mapped[bool] = mapped_column()
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    lineage: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Firing(Base):
    """A rule version matched a customer, and what came of it: ``created``, ``held_out``,
    ``suppressed:<check>``, or for a shadow version ``would_create`` / ``would_suppress:…``."""

    __tablename__ = "rule_firings"
    __table_args__ = (
        Index("uq_rule_firings_once", "rule_id", "rule_version", "dedupe_key", unique=True),
        Index("ix_rule_firings_rule", "rule_id", "fired_at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(60))
    rule_version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID)
    dedupe_key: Mapped[str] = mapped_column(String(300))
    decision: Mapped[str] = mapped_column(String(40))
    opportunity_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
