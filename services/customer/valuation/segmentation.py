"""Customer segmentation (客户细分) and value: the bank's rules, as pure functions.

Each dimension is decided from :class:`SegmentFacts` (what the bank knows of the customer's
money and behaviour) and the configured thresholds, and every decision carries its reason in
words a customer manager can read."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from contracts.customer import Quadrant
from services.customer.config import LoyaltyThresholds, UsageThresholds, ValueThresholds


class SegmentDimension(StrEnum):
    VALUE_TIER = "value_tier"
    LOYALTY = "loyalty"
    USAGE_DENSITY = "usage_density"
    LIFECYCLE_STAGE = "lifecycle_stage"
    QUADRANT = "quadrant"  # on satisfaction too: placed apart, see place_in_quadrant
    ATTRITION_RISK = "attrition_risk"  # learned: see services.customer.attrition


class ValueTier(StrEnum):
    PREMIUM = "premium"  # 优质客户
    KEY = "key"  # 重点客户
    ORDINARY = "ordinary"  # 普通客户
    RESTRICTED = "restricted"  # 限制客户
    POTENTIAL = "potential"  # 潜力客户


# Upgrades and downgrades are read along this order (restricted sits below everything).
TIER_RANK = {
    ValueTier.RESTRICTED: 0,
    ValueTier.ORDINARY: 1,
    ValueTier.POTENTIAL: 2,
    ValueTier.KEY: 3,
    ValueTier.PREMIUM: 4,
}


class LoyaltyState(StrEnum):
    LOYAL = "loyal"  # 忠诚
    DRIFTING = "drifting"  # 游离
    NON_COOPERATIVE = "non_cooperative"  # 非合作


_QUADRANTS = {
    (True, LoyaltyState.LOYAL): Quadrant.SATISFIED_LOYAL,
    (True, LoyaltyState.DRIFTING): Quadrant.SATISFIED_DRIFTING,
    (False, LoyaltyState.LOYAL): Quadrant.DISSATISFIED_LOYAL,
    (False, LoyaltyState.DRIFTING): Quadrant.DISSATISFIED_DRIFTING,
}


def satisfaction_quadrant(
    loyalty: str | None, satisfaction_index: Decimal | None, *, satisfied_from: Decimal
) -> Quadrant | None:
    """The quadrant from the loyalty segment and the satisfaction index, read as
    ``GET /v1/analytics/drifting`` reads them (satisfied: an index at or above
    ``satisfied_from``). None without a survey answer in the index's window, and for a
    customer neither loyal nor drifting (non-cooperative, or not valued yet): the drifting
    list leaves those out too."""
    if satisfaction_index is None or loyalty is None:
        return None
    try:
        state = LoyaltyState(loyalty)
    except ValueError:
        return None
    return _QUADRANTS.get((satisfaction_index >= satisfied_from, state))


class UsageDensity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class LifecycleStage(StrEnum):
    ENTRY = "entry"
    GROWTH = "growth"
    MATURITY = "maturity"
    DECLINE = "decline"


@dataclass(frozen=True)
class SegmentFacts:
    aum_cny: Decimal
    loan_balance_cny: Decimal
    open_products: int
    tenure_days: int
    inflow_90d_cny: Decimal
    inflow_previous_90d_cny: Decimal
    transactions_90d: int
    days_since_activity: int | None
    restriction: str | None = None

    @property
    def inflow_ratio(self) -> Decimal | None:
        """Money in over the last 90 days against the 90 before (None without a history)."""
        if self.inflow_previous_90d_cny <= 0:
            return None
        return self.inflow_90d_cny / self.inflow_previous_90d_cny


@dataclass(frozen=True)
class SegmentDecision:
    dimension: SegmentDimension
    value: str
    reason: str


def _cny(amount: Decimal) -> str:
    return f"CNY {amount:,.2f}"


def decide_value_tier(facts: SegmentFacts, thresholds: ValueThresholds) -> SegmentDecision:
    dimension = SegmentDimension.VALUE_TIER
    if facts.restriction:
        return SegmentDecision(dimension, ValueTier.RESTRICTED, f"restricted: {facts.restriction}")
    if facts.aum_cny >= thresholds.premium_aum:
        reason = f"assets {_cny(facts.aum_cny)} ≥ premium threshold {_cny(thresholds.premium_aum)}"
        return SegmentDecision(dimension, ValueTier.PREMIUM, reason)
    if facts.aum_cny >= thresholds.key_aum:
        reason = f"assets {_cny(facts.aum_cny)} ≥ key threshold {_cny(thresholds.key_aum)}"
        return SegmentDecision(dimension, ValueTier.KEY, reason)
    if (
        facts.tenure_days <= thresholds.potential_max_tenure_days
        and facts.inflow_90d_cny >= thresholds.potential_inflow_90d
    ):
        reason = (
            f"new customer ({facts.tenure_days} days) with money in over 90 days "
            f"{_cny(facts.inflow_90d_cny)} ≥ {_cny(thresholds.potential_inflow_90d)}"
        )
        return SegmentDecision(dimension, ValueTier.POTENTIAL, reason)
    reason = f"assets {_cny(facts.aum_cny)} below key threshold {_cny(thresholds.key_aum)}"
    return SegmentDecision(dimension, ValueTier.ORDINARY, reason)


def decide_loyalty(facts: SegmentFacts, thresholds: LoyaltyThresholds) -> SegmentDecision:
    dimension = SegmentDimension.LOYALTY
    idle = facts.days_since_activity
    if idle is None or idle >= thresholds.non_cooperative_idle_days:
        reason = "no activity yet" if idle is None else f"no activity for {idle} days"
        return SegmentDecision(dimension, LoyaltyState.NON_COOPERATIVE, reason)
    ratio = facts.inflow_ratio
    if ratio is not None and ratio < thresholds.drifting_inflow_ratio:
        reason = f"money in fell to {ratio:.0%} of the previous 90 days"
        return SegmentDecision(dimension, LoyaltyState.DRIFTING, reason)
    if (
        facts.tenure_days >= thresholds.loyal_min_tenure_days
        and facts.open_products >= thresholds.loyal_min_products
    ):
        reason = f"{facts.tenure_days} days with the bank, {facts.open_products} products held"
        return SegmentDecision(dimension, LoyaltyState.LOYAL, reason)
    reason = (
        f"{facts.tenure_days} days with the bank and {facts.open_products} products: "
        "not yet tied to the bank"
    )
    return SegmentDecision(dimension, LoyaltyState.DRIFTING, reason)


def decide_usage_density(facts: SegmentFacts, thresholds: UsageThresholds) -> SegmentDecision:
    per_month = Decimal(facts.transactions_90d) / 3
    reason = f"{per_month:.1f} transactions a month over 90 days"
    if per_month >= thresholds.high_per_month:
        value = UsageDensity.HIGH
    elif per_month >= thresholds.medium_per_month:
        value = UsageDensity.MEDIUM
    else:
        value = UsageDensity.LOW
    return SegmentDecision(SegmentDimension.USAGE_DENSITY, value, reason)


ENTRY_DAYS = 180
GROWTH_RATIO = Decimal("1.2")
DECLINE_RATIO = Decimal("0.7")
DECLINE_IDLE_DAYS = 90


def decide_lifecycle_stage(facts: SegmentFacts) -> SegmentDecision:
    dimension = SegmentDimension.LIFECYCLE_STAGE
    if facts.tenure_days < ENTRY_DAYS:
        reason = f"{facts.tenure_days} days since the first product"
        return SegmentDecision(dimension, LifecycleStage.ENTRY, reason)
    ratio = facts.inflow_ratio
    idle = facts.days_since_activity
    if (idle is not None and idle >= DECLINE_IDLE_DAYS) or (
        ratio is not None and ratio < DECLINE_RATIO
    ):
        reason = (
            f"no activity for {idle} days"
            if idle and idle >= DECLINE_IDLE_DAYS
            else (f"money in at {ratio:.0%} of the previous 90 days")
        )
        return SegmentDecision(dimension, LifecycleStage.DECLINE, reason)
    if ratio is not None and ratio >= GROWTH_RATIO:
        reason = f"money in at {ratio:.0%} of the previous 90 days"
        return SegmentDecision(dimension, LifecycleStage.GROWTH, reason)
    return SegmentDecision(dimension, LifecycleStage.MATURITY, "steady money in and out")


def decide_segments(
    facts: SegmentFacts,
    *,
    value: ValueThresholds,
    loyalty: LoyaltyThresholds,
    usage: UsageThresholds,
) -> list[SegmentDecision]:
    return [
        decide_value_tier(facts, value),
        decide_loyalty(facts, loyalty),
        decide_usage_density(facts, usage),
        decide_lifecycle_stage(facts),
    ]


def is_downgrade(previous: str | None, current: str) -> bool:
    if previous is None:
        return False
    return TIER_RANK[ValueTier(current)] < TIER_RANK[ValueTier(previous)]
