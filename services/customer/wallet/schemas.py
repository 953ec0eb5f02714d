"""HTTP models of share of wallet: the holdings a customer declared elsewhere, and the share
of their wealth the bank holds."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from services.customer.wallet.models import HeldProduct, InstitutionKind
from shared.money import PositiveAmount
from shared.requests import RequestModel


class HoldingDeclared(RequestModel):
    """A holding as the customer declared it; recording it again under its id replaces it."""

    institution_kind: InstitutionKind = Field(description="The kind of institution holding it.")
    product_type: HeldProduct = Field(description="What it is; assets only, never a loan.")
    amount_cny: PositiveAmount = Field(description="Its value in CNY on the day declared.")
    declared_on: date = Field(description="The day the customer declared it; not in the future.")


class HoldingRead(BaseModel):
    id: uuid.UUID
    institution_kind: str
    product_type: str
    amount_cny: Decimal
    declared_on: date
    recorded_by: str
    recorded_at: datetime


class ShareOfWallet(BaseModel):
    """The bank's balances against the customer's declared wealth elsewhere, and the money
    moved to other banks over the period."""

    customer_id: uuid.UUID
    known: bool = Field(
        description="Whether the customer declared anything held elsewhere: without it the "
        "share is not known, and is null rather than guessed."
    )
    bank_assets_cny: Decimal = Field(
        description="Open current, term-deposit and wealth balances, at reference rates."
    )
    declared_elsewhere_cny: Decimal | None
    share: Decimal | None = Field(
        description="bank_assets / (bank_assets + declared_elsewhere), 0 to 1; null when not "
        "known, or when both are zero."
    )
    oldest_declaration_on: date | None = Field(
        description="The oldest declaration the figure rests on: how stale it may be."
    )
    start: datetime
    end: datetime
    outflows_to_other_banks_cny: Decimal = Field(
        description="Transfers out naming another bank, booked in [start, end), not reversed."
    )
    outflow_transfers: int
