"""HTTP models of the value analytics: the pyramid, tier migration, drift, RFM, share of
wallet, retention, products per customer. A customer's name in them is a :data:`MaskedName`,
the one rule of every list of customers."""

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


class ShareBand(BaseModel):
    lower: Decimal
    upper: Decimal = Field(description="Exclusive, except the last band's 1.")
    customers: int


class TierWallet(BaseModel):
    tier: str = Field(description="A value tier, or ``all``.")
    customers: int
    known: int = Field(description="Customers who declared what they hold elsewhere.")
    bank_assets_cny: Decimal = Field(description="The bank's balances of the known customers.")
    declared_elsewhere_cny: Decimal
    share: Decimal | None = Field(
        description="The bank's share of the known customers' wealth, taken together."
    )
    mean_share: Decimal | None = Field(description="The mean of the known customers' shares.")
    bands: list[ShareBand]
    outflows_to_other_banks_cny: Decimal = Field(
        description="Transfers out naming another bank in the period, of every customer."
    )
    customers_with_outflows: int


class WalletDistribution(BaseModel):
    """Share of wallet by tier where customers declared their holdings elsewhere; the others
    count as customers, not as a share."""

    start: datetime
    end: datetime
    tiers: list[TierWallet]
    total: TierWallet


class RetentionGroup(BaseModel):
    group: str = Field(description="The tier at the start, or the cohort; ``all`` in total.")
    active_at_start: int
    retained: int
    closed: int = Field(description="Closed, or erased, by the end.")
    lapsed: int = Field(description="Still open, with no activity in the idle window at the end.")
    retention_rate: Decimal | None = Field(
        description="retained / active_at_start; null when nobody was active at the start."
    )


class Retention(BaseModel):
    """Of the customers active at the period's start, the share still active at its end."""

    period: str
    start: datetime
    end: datetime
    complete: bool = Field(description="False while the period runs: its end is now.")
    by: str
    cohort: str | None = Field(description="``month`` or ``quarter`` when by cohort.")
    lapse_after_days: int = Field(
        description="No posting or interaction for this many days: lapsed (non-cooperative)."
    )
    groups: list[RetentionGroup]
    total: RetentionGroup


class ProductCount(BaseModel):
    products: int
    customers: int


class TierProducts(BaseModel):
    tier: str = Field(description="A value tier, or ``all``.")
    customers: int
    mean_products: Decimal
    distribution: list[ProductCount]


class ProductsPerCustomer(BaseModel):
    """Cross-sell depth: the kinds of product each active customer holds open."""

    product_kinds: list[str]
    tiers: list[TierProducts]
    total: TierProducts
