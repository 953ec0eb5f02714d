"""What a customer holds at other institutions, as far as they have told the bank.

The bank sees only its own books: wealth elsewhere is known when the customer declares it
and a manager records it, never inferred. Share of wallet (客户占有率) is read from these rows
and the customer's own balances."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.customer.models import MONEY, Base


class InstitutionKind(StrEnum):
    BANK = "bank"
    SECURITIES = "securities"  # a broker
    INSURER = "insurer"
    FUND_MANAGER = "fund_manager"
    TRUST = "trust"
    OTHER = "other"


class HeldProduct(StrEnum):
    """Assets only: a loan elsewhere is not wealth the bank could hold."""

    DEPOSIT = "deposit"
    WEALTH_MANAGEMENT = "wealth_management"  # 理财
    FUND = "fund"
    SECURITIES = "securities"
    INSURANCE = "insurance"  # savings and investment-linked policies
    OTHER = "other"


class ExternalHolding(Base):
    """One holding the customer declared: the kind of institution, what it is, its value in
    CNY on the day declared. A new declaration of the same holding replaces the row."""

    __tablename__ = "external_holdings"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    institution_kind: Mapped[InstitutionKind] = mapped_column(String(20))
    product_type: Mapped[HeldProduct] = mapped_column(String(30))
    amount_cny: Mapped[Decimal] = mapped_column(MONEY)
    declared_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100))  # the token's subject
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_external_holdings_customer", "customer_id"),)
