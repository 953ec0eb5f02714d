"""The customer service's tables, in its own schema.

Relationships are ``lazy="raise"``: every read says what it loads (no hidden queries on a
channel's hot path)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    column,
    func,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, column_property, mapped_column

from shared.db import ServiceBase, new_metadata

MONEY = Numeric(20, 2)


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class CustomerKind(StrEnum):
    INDIVIDUAL = "individual"
    CORPORATE = "corporate"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    ERASED = "erased"  # closed, and its personal data erased on the customer's request


class IdentifierKind(StrEnum):
    """What a channel may identify a customer by."""

    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    SOCIAL_CREDIT_CODE = "social_credit_code"
    PHONE = "phone"
    EMAIL = "email"
    CARD_TOKEN = "card_token"
    ACCOUNT_NUMBER = "account_number"


# An identity document, a card or an account belongs to one customer; a phone or an e-mail
# may be shared within a household.
UNIQUE_IDENTIFIERS = frozenset(
    {
        IdentifierKind.RESIDENT_ID,
        IdentifierKind.PASSPORT,
        IdentifierKind.SOCIAL_CREDIT_CODE,
        IdentifierKind.CARD_TOKEN,
        IdentifierKind.ACCOUNT_NUMBER,
    }
)


# What a customer's last activity is derived from (their tables are mapped further down).
_postings = table("transactions", column("customer_id"), column("booked_at"))
_contacts = table("interactions", column("customer_id"), column("occurred_at"))


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    kind: Mapped[CustomerKind] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[CustomerStatus] = mapped_column(String(20), default=CustomerStatus.ACTIVE)
    version: Mapped[int] = mapped_column(Integer, default=1)
    branch_code: Mapped[str | None] = mapped_column(String(20))
    manager_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Kind-specific profile (individual: gender, birth date, occupation...; corporate: credit
    # code, industry, size...), validated by the schemas on the way in.
    profile: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # Marketing consent per channel: {"phone": {"granted": true, "at": ..., "source": ...}}.
    consent: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    value_tier: Mapped[str] = mapped_column(String(20))
    loyalty: Mapped[str | None] = mapped_column(String(20))
    usage_density: Mapped[str | None] = mapped_column(String(20))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20))
    # The satisfaction/loyalty quadrant last placed and published (None: never placed).
    quadrant: Mapped[str | None] = mapped_column(String(30))
    # The latest posting or contact, derived on every read (two index probes) rather than
    # stored: a stored copy made every ingest batch wait on the valuation consumer's lock of
    # the same customers' rows. The stored column stays, unmapped, for the previous release's
    # code during a rolling deploy; a contract revision drops it after this release.
    last_activity_at: Mapped[datetime | None] = column_property(
        func.greatest(
            select(func.max(_postings.c.booked_at))
            .where(_postings.c.customer_id == id)
            .scalar_subquery(),
            select(func.max(_contacts.c.occurred_at))
            .where(_contacts.c.customer_id == id)
            .scalar_subquery(),
            type_=DateTime(timezone=True),
        ),
        # Kept through a flush (no reload needed to answer with the customer); a new customer
        # is made with None.
        expire_on_flush=False,
    )
    # When the segments were last decided: an event older than that is already reflected.
    valued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_customers_name", "name"),
        Index("ix_customers_value_tier", "value_tier"),
        Index("ix_customers_manager_id", "manager_id"),
    )


class CustomerIdentifier(Base):
    """A normalised identifier for lookups (the profile keeps what the customer gave)."""

    __tablename__ = "customer_identifiers"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[IdentifierKind] = mapped_column(String(30))
    value: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "value"),
        Index("ix_customer_identifiers_lookup", "kind", "value"),
        # Revision 0022: what UNIQUE_IDENTIFIERS names is held by one customer.
        Index(
            "uq_customer_identifiers_held_once",
            "kind",
            "value",
            unique=True,
            postgresql_where=text(
                "kind IN ({})".format(", ".join(f"'{k}'" for k in sorted(UNIQUE_IDENTIFIERS)))
            ),
        ),
    )


class ProductType(StrEnum):
    CURRENT = "current"
    TERM_DEPOSIT = "term_deposit"
    LOAN = "loan"
    CARD = "card"
    WEALTH = "wealth"


class AccountStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MATURED = "matured"


class Account(Base):
    __tablename__ = "accounts"

    account_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    product_type: Mapped[ProductType] = mapped_column(String(20))
    product_code: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    # The balance before any posted transaction: what the account held at the end of a day
    # before its first one (reconciliation); ``balance`` moves with every posting.
    opening_balance: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    status: Mapped[AccountStatus] = mapped_column(String(20), default=AccountStatus.OPEN)
    opened_on: Mapped[date] = mapped_column(Date)
    maturity_date: Mapped[date | None] = mapped_column(Date)
    payoff_date: Mapped[date | None] = mapped_column(Date)
    card_token: Mapped[str | None] = mapped_column(String(80), unique=True)
    card_last_four: Mapped[str | None] = mapped_column(String(4))
    closed_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index("ix_accounts_customer_id", "customer_id"),)


class Direction(StrEnum):
    CREDIT = "credit"  # money in
    DEBIT = "debit"  # money out


class PostedTransaction(Base):
    __tablename__ = "transactions"

    transaction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    account_number: Mapped[str] = mapped_column(String(40))
    direction: Mapped[Direction] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    balance_after: Mapped[Decimal] = mapped_column(MONEY)
    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(20))
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_bank: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Set once, when core banking reverses the transaction (冲正); the bank's own id of the
    # reversal makes a retried reversal a duplicate.
    reversal_id: Mapped[str | None] = mapped_column(String(64))
    reversal_reason: Mapped[str | None] = mapped_column(String(30))
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_transactions_customer_booked", "customer_id", "booked_at"),
        Index(
            "ix_transactions_customer_fees",
            "customer_id",
            "booked_at",
            postgresql_include=["currency", "amount"],
            postgresql_where=text("kind = 'fee' AND reversed_at IS NULL"),
        ),
        Index(
            "uq_transactions_reversal_id",
            "reversal_id",
            unique=True,
            postgresql_where=text("reversal_id IS NOT NULL"),
        ),
    )


class MonthlyFlow(Base):
    """A customer's money in and out per month and currency: the running figures."""

    __tablename__ = "monthly_flows"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    money_in: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    money_out: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    transaction_count: Mapped[int] = mapped_column(Integer, default=0)


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(100))
    # The channel's own id (idempotency): a retried POST or a redelivered event is one row.
    external_id: Mapped[str] = mapped_column(String(100), unique=True)

    __table_args__ = (Index("ix_interactions_customer_occurred", "customer_id", "occurred_at"),)


class SegmentChange(Base):
    """Append-only history of every segment a customer was put in, with the reason."""

    __tablename__ = "segment_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    dimension: Mapped[str] = mapped_column(String(30))
    previous: Mapped[str | None] = mapped_column(String(20))
    current: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_segment_changes_customer", "customer_id", "dimension", "effective_at"),
    )


class Manager(Base):
    """A customer manager (客户经理) and the size of portfolio they can serve."""

    __tablename__ = "managers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    employee_number: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    branch_code: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_managers_branch_code", "branch_code"),)


class SurveyAnswer(Base):
    """A satisfaction survey answer: CSAT 1-5 and/or NPS 0-10, with the customer's words."""

    __tablename__ = "survey_answers"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    csat: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_survey_answers_customer", "customer_id", "answered_at"),)


class RelationshipKind(StrEnum):
    HOUSEHOLD = "household"  # 家庭
    PARENT_COMPANY = "parent_company"  # 集团母公司
    SUBSIDIARY = "subsidiary"
    RELATED_PARTY = "related_party"  # 关联方
    REFERRED_BY = "referred_by"  # 推荐人


class Relationship(Base):
    """A directed tie between two customers; its inverse is stored too, so each side reads
    its ties with one indexed query."""

    __tablename__ = "relationships"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    related_customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(30))
    since: Mapped[date] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("customer_id", "related_customer_id", "kind"),)


class UnservedCustomer(Base):
    """A customer whose tier requires a manager and who has had none since ``since``: no active
    manager had room when the tier asked for one. The row goes when a manager is assigned."""

    __tablename__ = "unserved_customers"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(300))


class ReviewForm(StrEnum):
    """How a manager reviewed the customer."""

    VISIT = "visit"
    CALL = "call"
    ADVICE = "advice"
    CROSS_SELL = "cross_sell"


class CustomerReview(Base):
    """A review the tier policy asks for (``review_every_days``), recorded when done. The next
    one is due from the latest review or the latest tier change, whichever came last."""

    __tablename__ = "customer_reviews"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str] = mapped_column(String(100))  # the token's subject
    manager_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    form: Mapped[ReviewForm] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    value_tier: Mapped[str] = mapped_column(String(20))  # the tier the review was for
    next_review_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_customer_reviews_customer", "customer_id", "reviewed_at"),)
