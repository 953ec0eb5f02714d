"""The customer service's projections of other services' events: the open complaints and
opportunities the 360 view shows, and every case the timeline keeps. Their tables are in the
service's schema and metadata (``models.Base``); the migrations' environment imports this
module so that they are compared too."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.models import Base


class OpenComplaint(Base):
    """Projection of the complaints service's events: a customer's complaints still open."""

    __tablename__ = "open_complaints"

    complaint_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    category: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_open_complaints_customer", "customer_id"),)


class OpenOpportunity(Base):
    """Projection of the events service's opportunities still open for a customer."""

    __tablename__ = "open_opportunities"

    opportunity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(String(40))
    product: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(20))
    # The manager it is for; none for the contact centre, and none on rows kept before the
    # events named the manager here (the worklist then gives them to the customer's manager).
    owner_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_open_opportunities_customer", "customer_id"),
        Index(
            "ix_open_opportunities_owner",
            "owner_id",
            postgresql_where=text("owner_id IS NOT NULL"),
        ),
    )


class CaseKind(StrEnum):
    COMPLAINT = "complaint"
    OPPORTUNITY = "opportunity"


class TimelineCase(Base):
    """A complaint or an opportunity as the customer's timeline shows it, kept from the
    complaints and events services' events. Unlike ``open_complaints`` and
    ``open_opportunities``, a closed case stays: the timeline is the customer's history."""

    __tablename__ = "timeline_cases"

    case_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    kind: Mapped[CaseKind] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    # A complaint's category, an opportunity's action: codes, never the customer's words.
    subject: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(100))  # priority; the product offered
    status: Mapped[str] = mapped_column(String(20))  # "open", or how it closed
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_timeline_cases_customer_opened", "customer_id", "opened_at"),)
