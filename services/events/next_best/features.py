"""The customer's features as a decision sees them: binned, so that the adaptive models count
responses per bin, and stored with the decision, so that learning from its response reads the
customer as they were when the offer was made, never as they became."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

# The predictors every action's model counts by. Age is not among them: the detector knows a
# birthday's month and day, never the year.
PREDICTORS = (
    "tier",
    "loyalty",
    "lifecycle",
    "quadrant",
    "products",
    "recency",
    "balance_trend",
    "channel",
)


@dataclass(frozen=True)
class CustomerFacts:
    value_tier: str | None
    loyalty: str | None
    lifecycle_stage: str | None
    quadrant: str | None
    products_held: int
    last_activity_at: datetime | None
    balance_now: Decimal | None
    balance_month_ago: Decimal | None


def decision_features(facts: CustomerFacts, channel: str | None, now: datetime) -> dict[str, str]:
    return {
        "tier": facts.value_tier or "unknown",
        "loyalty": facts.loyalty or "unknown",
        "lifecycle": facts.lifecycle_stage or "unknown",
        "quadrant": facts.quadrant or "unplaced",
        "products": _products_band(facts.products_held),
        "recency": _recency_band(facts.last_activity_at, now),
        "balance_trend": balance_trend(facts.balance_now, facts.balance_month_ago),
        "channel": channel or "any",
    }


def _products_band(held: int) -> str:
    return "0" if held == 0 else "1" if held == 1 else "2-3" if held <= 3 else "4+"


def _recency_band(last_activity_at: datetime | None, now: datetime) -> str:
    if last_activity_at is None:
        return "never"
    days = (now - last_activity_at).days
    return "7d" if days <= 7 else "30d" if days <= 30 else "90d" if days <= 90 else "older"


def balance_trend(now: Decimal | None, month_ago: Decimal | None) -> str:
    """How the deposit balances moved over the last 30 days: a fall of 30% or more is the
    mark of a customer moving money out (the balance-drop rules' threshold)."""
    if now is None or month_ago is None or month_ago <= 0:
        return "unknown"
    change = (now - month_ago) / month_ago
    if change <= Decimal("-0.3"):
        return "fell_30"
    if change <= Decimal("-0.1"):
        return "fell_10"
    return "rose_10" if change >= Decimal("0.1") else "steady"
