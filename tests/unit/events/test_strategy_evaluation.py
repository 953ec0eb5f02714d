"""A candidate strategy's choices on logged rankings, worked by hand."""

import uuid
from decimal import Decimal

import pytest

from services.events.decisions.repository import LoggedRanking
from services.events.decisions.strategy_evaluation import candidate_first, logged_decisions
from services.events.next_best.catalogue import catalogue
from services.events.next_best.off_policy import inverse_propensity

# The wealth product is worth 1,200 a year, the personal loan 800.
SERVED_WEALTH = LoggedRanking(
    uuid.uuid4(), [("wealth_up_sell", 0.10, 0.9), ("loan_offer", 0.20, 0.1)], "wealth_up_sell", True
)
SERVED_LOAN = LoggedRanking(
    uuid.uuid4(), [("wealth_up_sell", 0.10, 0.8), ("loan_offer", 0.20, 0.2)], "loan_offer", False
)


def test_the_candidate_puts_first_the_highest_estimate_times_value_times_its_weight() -> None:
    actions = catalogue()
    # 0.10 × 1200 = 120 against 0.20 × 800 = 160; weighed 2, the wealth product's is 240.
    assert candidate_first(SERVED_WEALTH, actions, {}) == "loan_offer"
    assert candidate_first(SERVED_WEALTH, actions, {"wealth_up_sell": Decimal(2)}) == (
        "wealth_up_sell"
    )


def test_the_log_weighs_each_served_offer_by_how_likely_the_policy_served_it() -> None:
    actions = catalogue()
    weighted = logged_decisions(
        [SERVED_WEALTH, SERVED_LOAN], actions, {"wealth_up_sell": Decimal(2)}
    )
    assert [(d.action, d.logging_probability, d.target_probability) for d in weighted] == [
        ("wealth_up_sell", 0.9, 1.0),
        ("loan_offer", 0.2, 0.0),
    ]
    assert weighted[0].candidate_modelled_acceptance == 0.10
    # IPS: (1/0.9 × 1 + 0) / 2.
    estimate = inverse_propensity(weighted, resamples=100)
    assert estimate.value == pytest.approx((1 / 0.9) / 2)
