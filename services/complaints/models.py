"""The complaints service's tables, in its own schema.

``complaint_history`` is append-only: the migration installs a trigger that refuses UPDATE
and DELETE, so not even a bug in this service can rewrite what a case went through."""

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import ServiceBase, new_metadata

MONEY = Numeric(20, 2)


class Base(ServiceBase):
    __abstract__ = True
    metadata = new_metadata()


class ComplaintChannel(StrEnum):
    BRANCH = "branch"
    PHONE = "phone"
    WEB = "web"
    MOBILE = "mobile"
    LETTER = "letter"
    EMAIL = "email"
    REGULATOR_REFERRAL = "regulator_referral"


class ComplaintCause(StrEnum):
    """Why the customer complained, as the bank classifies it after analysis."""

    FELT_IGNORED = "felt_ignored"  # ignored or slighted
    DOUBTED_PROFESSIONALISM = "doubted_professionalism"
    SERVICE_LEVEL = "service_level"  # dissatisfied with the level of service
    UNSET_EXPECTATIONS = "unset_expectations"  # expectations the bank never set


class ComplaintPriority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        return list(ComplaintPriority).index(self)


class ComplaintStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Complaint(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        # One open case per customer and category: a second complaint is linked, not opened.
        Index(
            "uq_complaints_open_per_customer_category",
            "customer_id",
            "category",
            unique=True,
            postgresql_where="status = 'open' AND customer_id IS NOT NULL",
        ),
        Index("ix_complaints_received", "received_at", "id"),
        Index("ix_complaints_customer", "customer_id", "received_at"),
        Index("ix_complaints_open_due", "step_due_at", postgresql_where="status = 'open'"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID)
    # A non-customer's contact details (name, phone, e-mail); never published in events.
    complainant: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    channel: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(30))
    cause: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    disputed_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    disputed_currency: Mapped[str | None] = mapped_column(String(3))
    transaction_ids: Mapped[list[str]] = mapped_column(JSONB)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    call_id: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(10))
    customer_tier: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))
    step: Mapped[str] = mapped_column(String(30))
    outcome: Mapped[str | None] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(60))
    resolution: Mapped[str | None] = mapped_column(Text)
    deadline_pack: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(5))  # the complainant's, for their letters
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledge_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decide_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    extensions_used: Mapped[int] = mapped_column(Integer, default=0)
    step_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    linked_count: Mapped[int] = mapped_column(Integer, default=0)
    is_repeat: Mapped[bool] = mapped_column(default=False)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    root_cause: Mapped[str | None] = mapped_column(Text)
    lesson: Mapped[str | None] = mapped_column(Text)


class HistoryEntry(Base):
    """One thing that happened to a case: who, when, what was decided, the note."""

    __tablename__ = "complaint_history"
    __table_args__ = (Index("ix_complaint_history_case", "complaint_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    complaint_id: Mapped[uuid.UUID] = mapped_column(UUID)
    action: Mapped[str] = mapped_column(String(30))
    from_step: Mapped[str | None] = mapped_column(String(30))
    to_step: Mapped[str | None] = mapped_column(String(30))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(30))
    decision: Mapped[dict[str, Any]] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CustomerStanding(Base):
    """What this service keeps of ``crm.customer.v1``: the tier that sets a complaint's
    priority, and whether the customer left (downgraded or closed) after complaining."""

    __tablename__ = "customer_standing"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    value_tier: Mapped[str | None] = mapped_column(String(20))
    last_downgrade_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
