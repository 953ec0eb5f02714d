"""Settings of the customer service: ``CRM_CUSTOMER_*`` first, then ``CRM_*``.

Segment thresholds and tier policies are configuration, not code: a bank changes them by
environment (JSON values), and every change of a customer's tier records the thresholds that
decided it."""

from decimal import Decimal
from typing import ClassVar

from pydantic import BaseModel, Field, model_validator

from shared.settings import SharedSettings


class ValueThresholds(BaseModel):
    """Assets under management (deposits and wealth, in CNY) that make each value tier."""

    premium_aum: Decimal = Decimal("1000000")
    key_aum: Decimal = Decimal("200000")
    # A new customer whose money in over the last 90 days reaches this is worth developing.
    potential_inflow_90d: Decimal = Decimal("100000")
    potential_max_tenure_days: int = 365


class LoyaltyThresholds(BaseModel):
    loyal_min_tenure_days: int = 730
    loyal_min_products: int = 3
    # Money in over the last 90 days against the 90 days before: below this ratio, drifting.
    drifting_inflow_ratio: Decimal = Decimal("0.5")
    non_cooperative_idle_days: int = 180


class UsageThresholds(BaseModel):
    """Transactions per month (over the last 90 days) for each usage density."""

    high_per_month: Decimal = Decimal("20")
    medium_per_month: Decimal = Decimal("5")


class LeadGrades(BaseModel):
    """Estimated value (CNY) that makes a potential customer grade A or B (else C)."""

    a_from: Decimal = Decimal("1000000")
    b_from: Decimal = Decimal("200000")


class ProfitModel(BaseModel):
    """A yearly contribution estimate: margins earned on balances, fees paid, less the cost
    of serving the customer. Good enough to rank and split customers; not an accounting
    figure (see docs/customer-value.md)."""

    deposit_margin: Decimal = Decimal("0.015")
    loan_margin: Decimal = Decimal("0.020")
    cost_to_serve: Decimal = Decimal("300")
    discount_rate: Decimal = Decimal("0.08")
    # Chance a customer in each loyalty state is still with the bank a year later.
    retention: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "loyal": Decimal("0.92"),
            "drifting": Decimal("0.70"),
            "non_cooperative": Decimal("0.40"),
        }
    )


class AttritionModel(BaseModel):
    """How attrition is observed, learned and read (docs/customer-value.md, the attrition
    model). Each month's valuation batch keeps an observation per active customer; once its
    horizon has passed it is labelled and learned."""

    horizon_days: int = Field(default=90, ge=7, le=730)
    # Attrited when the balances fell to this share of the observation's or less.
    run_down_share: Decimal = Field(default=Decimal("0.20"), ge=0, lt=1)
    # The propensity believed before any observation is learned, and how many it is worth.
    base_rate: float = Field(default=0.05, gt=0, lt=1)
    prior_strength: float = Field(default=20.0, gt=0)
    medium_from: float = Field(default=0.10, gt=0, lt=1)
    high_from: float = Field(default=0.25, gt=0, lt=1)
    # Lifetime value uses the learned retention once this many attritions were learned.
    min_attritions_for_retention: int = Field(default=200, ge=1)

    @model_validator(mode="after")
    def _bands_in_order(self) -> "AttritionModel":
        if self.medium_from >= self.high_from:
            raise ValueError("medium_from must be below high_from")
        return self


class TierPolicy(BaseModel):
    """How a value tier is served; other services learn it from the events."""

    manager_required: bool
    queue_priority: int = Field(ge=0, le=9, description="0 is served first")
    route_to_vip_queue: bool = False
    fee_discount_percent: Decimal = Decimal("0")
    review_every_days: int


def _default_policies() -> dict[str, TierPolicy]:
    return {
        "premium": TierPolicy(
            manager_required=True,
            queue_priority=0,
            route_to_vip_queue=True,
            fee_discount_percent=Decimal("50"),
            review_every_days=30,
        ),
        "key": TierPolicy(
            manager_required=True,
            queue_priority=1,
            fee_discount_percent=Decimal("20"),
            review_every_days=90,
        ),
        "potential": TierPolicy(manager_required=False, queue_priority=3, review_every_days=90),
        "ordinary": TierPolicy(manager_required=False, queue_priority=5, review_every_days=365),
        "restricted": TierPolicy(manager_required=False, queue_priority=7, review_every_days=30),
    }


def _default_fx() -> dict[str, Decimal]:
    return {
        "CNY": Decimal("1"),
        "USD": Decimal("7.10"),
        "EUR": Decimal("7.70"),
        "HKD": Decimal("0.91"),
        "GBP": Decimal("9.00"),
        "JPY": Decimal("0.047"),
    }


class Settings(SharedSettings):
    service_name: ClassVar[str] = "customer"
    default_port: ClassVar[int] = 8001

    # The service consumes its own transactions to revalue customers and the other services'
    # events for the 360 view: none of it is on a channel's or a screen's latency path, so a
    # tenth of a second's wait gathers a steady flow into polls of about a hundred
    # (bench/end_to_end.py, docs/end-to-end.md: the customer worker's CPU a transaction, and
    # the detector's latency beside it on a busy machine, both fell).
    consumer_linger_ms: int = Field(default=100, ge=0, le=5000)

    value_thresholds: ValueThresholds = ValueThresholds()
    loyalty_thresholds: LoyaltyThresholds = LoyaltyThresholds()
    usage_thresholds: UsageThresholds = UsageThresholds()
    tier_policies: dict[str, TierPolicy] = Field(default_factory=_default_policies)
    lead_grades: LeadGrades = LeadGrades()
    profit_model: ProfitModel = ProfitModel()
    attrition: AttritionModel = AttritionModel()
    # A satisfaction index (0-100) at or above this counts as "says satisfied".
    satisfied_from: Decimal = Decimal("70")
    # A review is shown due this many days before its date, overdue from the day after it.
    review_notice_days: int = Field(default=7, ge=0, le=60)
    # Reference rates to CNY for valuing foreign-currency balances (a daily feed in production).
    fx_rates_to_cny: dict[str, Decimal] = Field(default_factory=_default_fx)
    max_transactions_per_batch: int = Field(default=1000, ge=1, le=10_000)
    # How often each replica reads the latest reconciliation back for its gauge.
    reconciliation_gauge_seconds: float = Field(default=60.0, gt=0)

    @model_validator(mode="after")
    def _every_tier_has_a_policy(self) -> "Settings":
        missing = {"premium", "key", "potential", "ordinary", "restricted"} - set(
            self.tier_policies
        )
        if missing:
            raise ValueError(f"tier_policies lacks {sorted(missing)}")
        return self
