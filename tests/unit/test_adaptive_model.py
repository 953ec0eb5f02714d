"""The adaptive propensity model: naive Bayes over binned counts, with predictors that
separate the responses and only those."""

import random

import pytest

from shared.adaptive_model import (
    BinCounts,
    Evidence,
    Prior,
    active_predictors,
    predictor_auc,
    propensity,
)


def _learned(rates: dict[str, float], responses: int, seed: int) -> Evidence:
    """Responses of customers spread evenly over the tiers, accepting at each tier's rate,
    with a coin of a predictor that has nothing to do with it."""
    rng = random.Random(seed)
    counts: dict[tuple[str, str], list[int]] = {}
    evidence = Evidence()
    for _ in range(responses):
        tier, coin = rng.choice(sorted(rates)), rng.choice(["heads", "tails"])
        accepted = rng.random() < rates[tier]
        evidence.positives += accepted
        evidence.negatives += not accepted
        for key in (("tier", tier), ("coin", coin)):
            counts.setdefault(key, [0, 0])[0 if accepted else 1] += 1
    for (predictor, bin_), (positives, negatives) in counts.items():
        evidence.add(predictor, bin_, BinCounts(positives, negatives))
    return evidence


def test_the_auc_of_bins_counts_pairs_ranked_right_and_ties_half() -> None:
    # 2 positives and 1 negative in "a" (rate 2/3), 1 positive and 2 negatives in "b".
    bins = {"a": BinCounts(2, 1), "b": BinCounts(1, 2)}
    # Pairs: 3 positives × 3 negatives = 9. Right: a's 2 positives over b's 2 negatives (4);
    # ties within a bin: a (2×1) and b (1×2) count half each (2).
    assert predictor_auc(bins) == pytest.approx(6 / 9)
    assert predictor_auc({"only": BinCounts(5, 5)}) == 0.5


def test_with_no_responses_the_propensity_is_the_prior() -> None:
    answer = propensity(Evidence(), {"tier": "premium"}, Prior(0.07, 20))
    assert answer.mean == pytest.approx(0.07)
    assert answer.contributions == {}


def test_the_model_learns_each_bins_rate_and_leaves_out_a_predictor_of_chance() -> None:
    rates = {"ordinary": 0.02, "potential": 0.06, "key": 0.12, "premium": 0.25}
    evidence = _learned(rates, 40_000, seed=7)
    assert active_predictors(evidence) == ["tier"]
    for tier, rate in rates.items():
        learned = propensity(evidence, {"tier": tier, "coin": "heads"}, Prior(0.05, 20))
        assert learned.mean == pytest.approx(rate, rel=0.15)
        assert set(learned.contributions) == {"tier"}


def test_a_posterior_draw_spreads_less_as_evidence_grows() -> None:
    rng = random.Random(3)
    rates = {"ordinary": 0.05, "premium": 0.2}
    thin = propensity(_learned(rates, 400, 1), {"tier": "premium"}, Prior(0.05, 20))
    thick = propensity(_learned(rates, 40_000, 1), {"tier": "premium"}, Prior(0.05, 20))

    def spread(p: float, draws: list[float]) -> float:
        return sum((d - p) ** 2 for d in draws) / len(draws)

    thin_draws = [thin.draw(rng) for _ in range(2000)]
    thick_draws = [thick.draw(rng) for _ in range(2000)]
    assert spread(thick.mean, thick_draws) < spread(thin.mean, thin_draws) / 10
    assert sum(thick_draws) / 2000 == pytest.approx(thick.mean, rel=0.05)
