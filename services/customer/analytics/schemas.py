"""HTTP models of the value analytics: the pyramid, tier migration, drift, RFM. A customer's
name in them is a :data:`MaskedName`, the one rule of every list of customers."""

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from shared.masking import MaskedName


class TierValue(BaseModel):
    tier: str
    customers: int
    customer_share: Decimal
    aum_cny: Decimal
    aum_share: Decimal
    contribution_cny: Decimal


class ValuePyramid(BaseModel):
    """Share of the bank's book by value tier, and the 20:80 rule measured."""

    tiers: list[TierValue]
    top_fifth_aum_share: Decimal = Field(description="Share of assets held by the top 20%.")
    top_fifth_contribution_share: Decimal = Field(
        description="Share of the yearly contribution earned from the top 20% (can exceed 1 "
        "when loss-making customers take some away)."
    )
    profitable: int
    marginal: int
    loss_making: int


class MigrationCell(BaseModel):
    from_tier: str
    to_tier: str
    customers: int


class SegmentMigration(BaseModel):
    start: datetime
    end: datetime
    cells: list[MigrationCell]
    upgrades: int
    downgrades: int


class DriftingCustomer(BaseModel):
    id: uuid.UUID
    name: MaskedName
    value_tier: str
    manager_id: uuid.UUID | None
    aum_cny: Decimal
    contribution_cny: Decimal
    satisfaction_index: Decimal | None


class RfmScore(BaseModel):
    id: uuid.UUID
    name: MaskedName
    value_tier: str
    recency_days: int
    frequency: int
    monetary_cny: Decimal
    recency: int = Field(ge=1, le=5)
    frequency_score: int = Field(ge=1, le=5)
    monetary: int = Field(ge=1, le=5)
    rfm: str = Field(description="The three scores as a cell, e.g. 555.")
