"""A prospect's tables: leads (潜在客户) and the visits planned to them."""

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.models import MONEY, Base


class LeadStatus(StrEnum):
    OPEN = "open"
    CONVERTED = "converted"
    LOST = "lost"


class Lead(Base):
    """A potential customer (潜在客户)."""

    __tablename__ = "leads"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(30))
    estimated_value_cny: Mapped[Decimal] = mapped_column(MONEY)
    grade: Mapped[str] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(30))
    branch_code: Mapped[str | None] = mapped_column(String(20))
    manager_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    referred_by: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[LeadStatus] = mapped_column(String(20), default=LeadStatus.OPEN)
    converted_customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_leads_status_grade", "status", "grade"),
        Index("ix_leads_manager", "manager_id"),  # a manager's worklist
    )


class VisitPlan(Base):
    """A planned visit (拜访计划) to a lead, and what came of it."""

    __tablename__ = "visit_plans"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id"))
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    purpose: Mapped[str] = mapped_column(String(300))
    outcome: Mapped[str | None] = mapped_column(String(30))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_visit_plans_lead", "lead_id"),)
