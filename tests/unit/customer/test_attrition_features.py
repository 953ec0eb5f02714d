"""The attrition model's bins, bands and labels: the bank's rules as pure functions."""

from decimal import Decimal

import pytest

from services.customer.attrition.features import (
    balance_trend,
    outcome_of,
    recency_band,
    risk_band,
    yearly_retention,
)
from services.customer.config import AttritionModel

MODEL = AttritionModel()  # run down at 20% or less, medium from 0.10, high from 0.25


@pytest.mark.parametrize(
    ("left", "label"),
    [("2000.00", "attrited"), ("2000.01", "retained"), ("0.00", "attrited")],
)
def test_balances_run_down_at_the_configured_share_or_less(left: str, label: str) -> None:
    outcome = outcome_of(
        observed_assets=Decimal("10000.00"),
        assets_at_horizon=Decimal(left),
        relationship_closed=None,
        model=MODEL,
    )
    assert outcome.label == label


def test_nothing_held_cannot_run_down_and_a_closing_is_attrition_whatever_is_left() -> None:
    empty = outcome_of(
        observed_assets=Decimal("0"),
        assets_at_horizon=Decimal("0"),
        relationship_closed=None,
        model=MODEL,
    )
    closed = outcome_of(
        observed_assets=Decimal("10000"),
        assets_at_horizon=Decimal("10000"),
        relationship_closed="relationship closed on 2026-11-01",
        model=MODEL,
    )
    assert empty.label == "retained"
    assert (closed.label, closed.reason) == ("attrited", "relationship closed on 2026-11-01")


def test_bins_of_the_trend_and_the_recency() -> None:
    assert balance_trend(Decimal("50"), Decimal("100")) == "fell_over_half"
    assert balance_trend(Decimal("79"), Decimal("100")) == "fell"
    assert balance_trend(Decimal("120"), Decimal("100")) == "steady"
    assert balance_trend(Decimal("121"), Decimal("100")) == "grew"
    assert balance_trend(Decimal("5"), Decimal("0")) == "new"
    assert balance_trend(Decimal("0"), Decimal("0")) == "none"
    assert [recency_band(d) for d in (None, 30, 31, 180, 181)] == [
        "never",
        "within_30d",
        "within_90d",
        "within_180d",
        "over_180d",
    ]


def test_bands_by_the_cut_offs_and_a_year_of_retention_from_the_horizon() -> None:
    assert [risk_band(p, MODEL) for p in (0.0999, 0.10, 0.2499, 0.25)] == [
        "low",
        "medium",
        "medium",
        "high",
    ]
    # 12% over 90 days, held for a year: 0.88 ** (365 / 90) = 0.59545...
    assert yearly_retention(0.12, MODEL) == Decimal("0.5955")
