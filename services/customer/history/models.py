"""A customer's history by facet, so that the 360 view can be read as of a past moment.

A row holds one facet's whole state from ``valid_from`` until the next row of that facet. The
rows are written by triggers (migration 0018) in the transaction of the change, whatever path
makes it, and never by this code; erasure rewrites what they hold of the person."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.models import Base


class Facet(StrEnum):
    CUSTOMER = "customer"  # the customer's own row: profile, status, branch, manager
    ACCOUNTS = "accounts"  # products held and their status (balances: ``balance_after``)
    RELATIONSHIPS = "relationships"
    GROUP = "group"  # the current household or group, JSON null when none


class CustomerHistory(Base):
    __tablename__ = "customer_history"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    facet: Mapped[Facet] = mapped_column(String(20), primary_key=True)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    snapshot: Mapped[Any] = mapped_column(JSONB)


class CustomerHistoryStart(Base):
    """When the history became complete: before it, only the state at that moment is known."""

    __tablename__ = "customer_history_start"

    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
