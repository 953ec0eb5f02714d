"""The reconciliation runs kept, each with the accounts whose figures did not match.

Beside the feature rather than in the service's ``models.py``, on the same metadata: the
tables belong to this feature alone."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.models import MONEY, Base


class ReconciliationRun(Base):
    """Core banking's end-of-day figures for one business date, compared with the view's;
    the same figures sent again are the same run (``digest``)."""

    __tablename__ = "reconciliation_runs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    digest: Mapped[str] = mapped_column(String(64))
    compared: Mapped[int] = mapped_column(Integer)
    matching: Mapped[int] = mapped_column(Integer)
    differing: Mapped[int] = mapped_column(Integer)
    unknown: Mapped[int] = mapped_column(Integer)
    missing: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        UniqueConstraint("business_date", "digest"),
        Index("ix_reconciliation_runs_latest", "business_date", "received_at"),
    )


class ReconciliationDifference(Base):
    """An account that did not match, at its place in the pages: those core banking named,
    then those it missed, each in account-number order."""

    __tablename__ = "reconciliation_differences"

    run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("reconciliation_runs.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_number: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))
    core_currency: Mapped[str | None] = mapped_column(String(3))
    core_balance: Mapped[Decimal | None] = mapped_column(MONEY)
    view_currency: Mapped[str | None] = mapped_column(String(3))
    view_balance: Mapped[Decimal | None] = mapped_column(MONEY)
    difference: Mapped[Decimal | None] = mapped_column(MONEY)
