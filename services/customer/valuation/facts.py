"""What the bank knows of a customer, as segmentation reads it: the facts of their money and
behaviour from their accounts and flows, and the decisions the configured thresholds give."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from services.customer.config import Settings
from services.customer.models import AccountStatus
from services.customer.valuation.money import HeldBalance, balances_cny, to_cny
from services.customer.valuation.repository import MoneyFacts
from services.customer.valuation.segmentation import (
    SegmentDecision,
    SegmentFacts,
    decide_segments,
)

_NO_MONEY = MoneyFacts({}, {}, 0)


class ValuedCustomer(Protocol):
    """What deciding a customer's segments reads of them: a customer, or a plain row."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def last_activity_at(self) -> datetime | None: ...
    @property
    def profile(self) -> dict[str, Any]: ...


def facts_of(
    customer: ValuedCustomer,
    accounts: Sequence[HeldBalance],
    money: MoneyFacts | None,
    *,
    settings: Settings,
    at: datetime,
) -> SegmentFacts:
    aum, loans = balances_cny(accounts, settings)
    money = money or _NO_MONEY
    inflow = sum((to_cny(v, c, settings) for c, v in money.inflow_90d.items()), Decimal("0"))
    previous = sum(
        (to_cny(v, c, settings) for c, v in money.inflow_previous_90d.items()), Decimal("0")
    )
    idle = (at - customer.last_activity_at).days if customer.last_activity_at else None
    return SegmentFacts(
        aum_cny=aum,
        loan_balance_cny=loans,
        open_products=sum(1 for a in accounts if a.status == AccountStatus.OPEN),
        tenure_days=max((at - customer.created_at).days, 0),
        inflow_90d_cny=inflow,
        inflow_previous_90d_cny=previous,
        transactions_90d=money.transactions_90d,
        days_since_activity=idle,
        restriction=customer.profile.get("restriction"),
    )


def decide_with_settings(facts: SegmentFacts, settings: Settings) -> list[SegmentDecision]:
    return decide_segments(
        facts,
        value=settings.value_thresholds,
        loyalty=settings.loyalty_thresholds,
        usage=settings.usage_thresholds,
    )
