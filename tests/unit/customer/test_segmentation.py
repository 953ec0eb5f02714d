"""The segmentation rules, decided from facts and configured thresholds."""

from dataclasses import replace
from decimal import Decimal

import pytest

from contracts.customer import Quadrant
from services.customer.config import LoyaltyThresholds, UsageThresholds, ValueThresholds
from services.customer.valuation.segmentation import (
    LifecycleStage,
    LoyaltyState,
    SegmentFacts,
    UsageDensity,
    ValueTier,
    decide_lifecycle_stage,
    decide_loyalty,
    decide_segments,
    decide_usage_density,
    decide_value_tier,
    is_downgrade,
    satisfaction_quadrant,
)

STEADY = SegmentFacts(
    aum_cny=Decimal("50000"),
    loan_balance_cny=Decimal("0"),
    open_products=2,
    tenure_days=900,
    inflow_90d_cny=Decimal("30000"),
    inflow_previous_90d_cny=Decimal("30000"),
    transactions_90d=30,
    days_since_activity=3,
)


class TestValueTier:
    @pytest.mark.parametrize(
        ("aum", "tier"),
        [
            ("1000000", ValueTier.PREMIUM),
            ("999999.99", ValueTier.KEY),
            ("200000", ValueTier.KEY),
            ("199999.99", ValueTier.ORDINARY),
        ],
    )
    def test_assets_against_the_thresholds(self, aum: str, tier: ValueTier) -> None:
        decision = decide_value_tier(replace(STEADY, aum_cny=Decimal(aum)), ValueThresholds())

        assert decision.value == tier

    def test_thresholds_are_configuration(self) -> None:
        lower = ValueThresholds(premium_aum=Decimal("500000"))

        assert decide_value_tier(replace(STEADY, aum_cny=Decimal("600000")), lower).value == (
            ValueTier.PREMIUM
        )

    def test_a_restriction_overrides_any_wealth(self) -> None:
        facts = replace(STEADY, aum_cny=Decimal("5000000"), restriction="anti-fraud hold")

        decision = decide_value_tier(facts, ValueThresholds())

        assert decision.value == ValueTier.RESTRICTED
        assert "anti-fraud hold" in decision.reason

    def test_a_new_customer_with_strong_inflows_has_potential(self) -> None:
        facts = replace(STEADY, tenure_days=60, inflow_90d_cny=Decimal("150000"))

        assert decide_value_tier(facts, ValueThresholds()).value == ValueTier.POTENTIAL

    def test_an_established_customer_below_the_key_threshold_is_ordinary(self) -> None:
        facts = replace(STEADY, inflow_90d_cny=Decimal("150000"))

        decision = decide_value_tier(facts, ValueThresholds())

        assert decision.value == ValueTier.ORDINARY
        assert decision.reason == "assets CNY 50,000.00 below key threshold CNY 200,000.00"

    def test_the_reason_names_the_figures(self) -> None:
        decision = decide_value_tier(
            replace(STEADY, aum_cny=Decimal("1234567.8")), ValueThresholds()
        )

        assert decision.reason == ("assets CNY 1,234,567.80 ≥ premium threshold CNY 1,000,000.00")

    def test_downgrades_read_along_the_tier_order(self) -> None:
        assert is_downgrade("premium", "key")
        assert is_downgrade("ordinary", "restricted")
        assert not is_downgrade("ordinary", "key")
        assert not is_downgrade(None, "ordinary")


class TestLoyalty:
    def test_long_tenure_and_many_products_is_loyal(self) -> None:
        facts = replace(STEADY, open_products=3)

        assert decide_loyalty(facts, LoyaltyThresholds()).value == LoyaltyState.LOYAL

    def test_money_in_halving_is_drifting_whatever_the_tenure(self) -> None:
        facts = replace(STEADY, open_products=5, inflow_90d_cny=Decimal("10000"))

        decision = decide_loyalty(facts, LoyaltyThresholds())

        assert decision.value == LoyaltyState.DRIFTING
        assert "33%" in decision.reason

    def test_long_silence_is_non_cooperative(self) -> None:
        facts = replace(STEADY, days_since_activity=200)

        assert decide_loyalty(facts, LoyaltyThresholds()).value == LoyaltyState.NON_COOPERATIVE

    def test_a_customer_never_active_is_non_cooperative(self) -> None:
        decision = decide_loyalty(replace(STEADY, days_since_activity=None), LoyaltyThresholds())

        assert decision.value == LoyaltyState.NON_COOPERATIVE
        assert decision.reason == "no activity yet"

    def test_silence_counts_from_the_threshold_day(self) -> None:
        thresholds = LoyaltyThresholds()
        on_the_day = replace(STEADY, open_products=3, days_since_activity=180)
        the_day_before = replace(on_the_day, days_since_activity=179)

        assert decide_loyalty(on_the_day, thresholds).value == LoyaltyState.NON_COOPERATIVE
        assert decide_loyalty(the_day_before, thresholds).value == LoyaltyState.LOYAL

    def test_steady_but_not_yet_tied_is_drifting(self) -> None:
        facts = replace(STEADY, tenure_days=400, open_products=3)

        decision = decide_loyalty(facts, LoyaltyThresholds())

        assert decision.value == LoyaltyState.DRIFTING
        assert decision.reason.endswith("not yet tied to the bank")


class TestUsageDensity:
    @pytest.mark.parametrize(
        ("transactions_90d", "density"),
        [
            (60, UsageDensity.HIGH),
            (59, UsageDensity.MEDIUM),
            (15, UsageDensity.MEDIUM),
            (14, UsageDensity.LOW),
        ],
    )
    def test_transactions_per_month(self, transactions_90d: int, density: UsageDensity) -> None:
        facts = replace(STEADY, transactions_90d=transactions_90d)

        assert decide_usage_density(facts, UsageThresholds()).value == density


class TestLifecycle:
    def test_a_new_relationship_is_in_entry(self) -> None:
        assert decide_lifecycle_stage(replace(STEADY, tenure_days=30)).value == (
            LifecycleStage.ENTRY
        )

    def test_rising_money_in_is_growth(self) -> None:
        facts = replace(STEADY, inflow_90d_cny=Decimal("45000"))

        assert decide_lifecycle_stage(facts).value == LifecycleStage.GROWTH

    def test_falling_money_in_is_decline(self) -> None:
        facts = replace(STEADY, inflow_90d_cny=Decimal("15000"))

        assert decide_lifecycle_stage(facts).value == LifecycleStage.DECLINE

    def test_steady_is_maturity(self) -> None:
        assert decide_lifecycle_stage(STEADY).value == LifecycleStage.MATURITY

    def test_three_months_of_silence_is_decline_however_money_moved(self) -> None:
        facts = replace(STEADY, inflow_90d_cny=Decimal("45000"), days_since_activity=90)

        decision = decide_lifecycle_stage(facts)

        assert decision.value == LifecycleStage.DECLINE
        assert decision.reason == "no activity for 90 days"

    def test_without_a_previous_quarter_an_established_customer_is_mature(self) -> None:
        facts = replace(STEADY, inflow_previous_90d_cny=Decimal("0"))

        assert facts.inflow_ratio is None
        assert decide_lifecycle_stage(facts).value == LifecycleStage.MATURITY


class TestAllDimensions:
    def test_each_dimension_is_decided_once_in_order(self) -> None:
        decisions = decide_segments(
            STEADY,
            value=ValueThresholds(),
            loyalty=LoyaltyThresholds(),
            usage=UsageThresholds(),
        )

        assert [d.dimension for d in decisions] == [
            "value_tier",
            "loyalty",
            "usage_density",
            "lifecycle_stage",
        ]
        assert [d.value for d in decisions] == [
            ValueTier.ORDINARY,
            LoyaltyState.DRIFTING,
            UsageDensity.MEDIUM,
            LifecycleStage.MATURITY,
        ]


class TestSatisfactionQuadrant:
    @pytest.mark.parametrize(
        ("loyalty", "index", "quadrant"),
        [
            ("loyal", "70", Quadrant.SATISFIED_LOYAL),
            ("drifting", "85.5", Quadrant.SATISFIED_DRIFTING),
            ("loyal", "69.9", Quadrant.DISSATISFIED_LOYAL),
            ("drifting", "0", Quadrant.DISSATISFIED_DRIFTING),
        ],
    )
    def test_satisfied_from_the_threshold_up_and_loyal_only_when_the_segment_says_so(
        self, loyalty: str, index: str, quadrant: Quadrant
    ) -> None:
        placed = satisfaction_quadrant(loyalty, Decimal(index), satisfied_from=Decimal("70"))
        assert placed is quadrant

    @pytest.mark.parametrize(
        ("loyalty", "index"),
        [("loyal", None), (None, "90"), ("non_cooperative", "90"), ("non_cooperative", "10")],
    )
    def test_no_quadrant_without_an_answer_or_for_a_customer_neither_loyal_nor_drifting(
        self, loyalty: str | None, index: str | None
    ) -> None:
        satisfaction = None if index is None else Decimal(index)
        assert satisfaction_quadrant(loyalty, satisfaction, satisfied_from=Decimal("70")) is None
