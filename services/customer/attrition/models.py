"""The attrition model's tables: monthly observations of each customer, the counts learned
from them, and each customer's current risk.

An observation keeps the customer's features as they were when it was taken, so that what is
learned when its horizon has passed never sees what happened after it. The counts are the
model (``shared.adaptive_model``); a learned observation is marked in the transaction that
adds it to them, so it is counted once."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Date, DateTime, Float, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.models import Base

# The row of the counts that holds the responses in total rather than one bin's.
TOTAL = "*"


class AttritionObservation(Base):
    __tablename__ = "attrition_observations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month it was taken in
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    horizon_ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    features: Mapped[dict[str, str]] = mapped_column(JSONB)
    # Deposits and wealth in CNY then: the mark a run-down is measured against.
    assets_cny: Mapped[Decimal] = mapped_column(Numeric(20, 2))
    outcome: Mapped[str | None] = mapped_column(String(20))  # "attrited" or "retained"
    reason: Mapped[str | None] = mapped_column(String(200))
    learned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("customer_id", "month"),
        Index(
            "ix_attrition_observations_due",
            "horizon_ends_at",
            postgresql_where="learned_at IS NULL",
        ),
    )


class AttritionCount(Base):
    """Positive (attrited) and negative (retained) observations per predictor bin; the row
    (``TOTAL``, ``TOTAL``) counts them all."""

    __tablename__ = "attrition_counts"

    predictor: Mapped[str] = mapped_column(String(40), primary_key=True)
    bin: Mapped[str] = mapped_column(String(40), primary_key=True)
    positives: Mapped[int] = mapped_column(Integer, default=0)
    negatives: Mapped[int] = mapped_column(Integer, default=0)


class AttritionRisk(Base):
    """The customer's risk as the last valuation batch read it (one row a customer, kept
    apart from the customer's row, which the history triggers and the view's statement
    read)."""

    __tablename__ = "attrition_risks"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    probability: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(10))
    # Each active predictor, its bin and the log-odds it added, the largest first: the why.
    contributions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # What the model had learned then: observations and attritions.
    responses: Mapped[int] = mapped_column(Integer)
    attritions: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
