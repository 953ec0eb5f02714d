"""What the attrition model knows of a customer, as bins, and how an observation is labelled:
pure functions of figures read elsewhere."""

from dataclasses import dataclass
from decimal import Decimal

from contracts.customer import AttritionBand
from services.customer.config import AttritionModel

ATTRITED = "attrited"
RETAINED = "retained"
DAYS_A_YEAR = 365


@dataclass(frozen=True)
class AttritionFacts:
    """The customer's figures when observed, beside the segments already decided."""

    value_tier: str
    loyalty: str | None
    quadrant: str | None
    tenure_days: int
    open_products: int
    assets_cny: Decimal
    assets_90d_ago_cny: Decimal
    days_since_activity: int | None
    complaints_90d: int


def tenure_band(days: int) -> str:
    years = days / DAYS_A_YEAR
    return "under_1y" if years < 1 else "1_3y" if years < 3 else "3_5y" if years < 5 else "5y_plus"


def products_band(count: int) -> str:
    return str(count) if count < 3 else "3_plus"


def balance_trend(now: Decimal, before: Decimal) -> str:
    """Deposits and wealth now against 90 days before."""
    if before <= 0:
        return "new" if now > 0 else "none"
    ratio = now / before
    if ratio <= Decimal("0.5"):
        return "fell_over_half"
    if ratio < Decimal("0.8"):
        return "fell"
    return "steady" if ratio <= Decimal("1.2") else "grew"


def recency_band(days: int | None) -> str:
    if days is None:
        return "never"
    for limit in (30, 90, 180):
        if days <= limit:
            return f"within_{limit}d"
    return "over_180d"


def complaints_band(count: int) -> str:
    return str(count) if count < 2 else "2_plus"


def features_of(facts: AttritionFacts) -> dict[str, str]:
    return {
        "value_tier": facts.value_tier,
        "loyalty": facts.loyalty or "not_valued",
        "quadrant": facts.quadrant or "unplaced",
        "tenure": tenure_band(facts.tenure_days),
        "products": products_band(facts.open_products),
        "balance_trend_90d": balance_trend(facts.assets_cny, facts.assets_90d_ago_cny),
        "recency": recency_band(facts.days_since_activity),
        "complaints_90d": complaints_band(facts.complaints_90d),
    }


def risk_band(probability: float, model: AttritionModel) -> AttritionBand:
    if probability >= model.high_from:
        return AttritionBand.HIGH
    return AttritionBand.MEDIUM if probability >= model.medium_from else AttritionBand.LOW


def yearly_retention(probability: float, model: AttritionModel) -> Decimal:
    """The chance of staying a year, from the chance of attriting within the horizon (the
    horizon's hazard held constant over the year)."""
    kept = (1 - probability) ** (DAYS_A_YEAR / model.horizon_days)
    return Decimal(str(kept)).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class Outcome:
    label: str
    reason: str


def outcome_of(
    *,
    observed_assets: Decimal,
    assets_at_horizon: Decimal,
    relationship_closed: str | None,
    model: AttritionModel,
) -> Outcome:
    """Attrited if the relationship closed within the horizon (``relationship_closed`` says
    how) or the balances ran down to ``run_down_share`` of the observation's or less."""
    if relationship_closed is not None:
        return Outcome(ATTRITED, relationship_closed)
    if observed_assets > 0 and assets_at_horizon <= observed_assets * model.run_down_share:
        share = assets_at_horizon / observed_assets
        return Outcome(
            ATTRITED,
            f"balances ran down to {share:.0%} of CNY {observed_assets:,.2f} "
            f"(≤ {model.run_down_share:.0%})",
        )
    return Outcome(RETAINED, "still with the bank at the horizon")
