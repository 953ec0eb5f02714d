"""Off-policy evaluation of a candidate strategy, without a database: against answers known by
construction and against a simulated bank whose acceptance probabilities are planted."""

import random
import statistics
from collections.abc import Callable, Mapping, Sequence

import pytest

from services.events.next_best.off_policy import (
    LoggedDecision,
    PolicyEstimate,
    doubly_robust,
    effective_sample_size,
    inverse_propensity,
    self_normalised_inverse_propensity,
)

Estimator = Callable[..., PolicyEstimate]
ESTIMATORS: dict[str, Estimator] = {
    "IPS": inverse_propensity,
    "SNIPS": self_normalised_inverse_propensity,
    "DR": doubly_robust,
}

ACTIONS = ("retention_call", "card_cross_sell", "wealth_up_sell", "loan_offer", "insurance")
# Acceptance probability by value tier × action: the planted world of issue #30.
PLANTED: dict[str, tuple[float, ...]] = {
    "mass": (0.02, 0.12, 0.01, 0.08, 0.04),
    "affluent": (0.04, 0.06, 0.10, 0.05, 0.03),
    "premium": (0.06, 0.03, 0.18, 0.02, 0.07),
    "private": (0.10, 0.01, 0.25, 0.01, 0.05),
}


def _best(world: Mapping[str, Sequence[float]]) -> dict[str, int]:
    return {tier: max(range(len(ACTIONS)), key=p.__getitem__) for tier, p in world.items()}


def _candidate_rate(world: Mapping[str, Sequence[float]]) -> float:
    """The true acceptance rate of the candidate that offers each tier its best action, the
    tiers being equally common."""
    return statistics.fmean(max(p) for p in world.values())


def _uniform_log(
    seed: int,
    decisions: int,
    *,
    world: Mapping[str, Sequence[float]] = PLANTED,
    model: Mapping[str, Sequence[float]] | None = None,
) -> list[LoggedDecision]:
    """A log served uniformly at random over the actions; the candidate offers each tier its
    best action under the planted world; `model` (the planted world by default) is the reward
    model the doubly robust estimate reads."""
    rng = random.Random(seed)
    best, model = _best(world), model or world
    tiers = list(world)
    log = []
    for _ in range(decisions):
        tier, shown = rng.choice(tiers), rng.randrange(len(ACTIONS))
        log.append(
            LoggedDecision(
                action=ACTIONS[shown],
                logging_probability=1 / len(ACTIONS),
                target_probability=1.0 if shown == best[tier] else 0.0,
                accepted=rng.random() < world[tier][shown],
                modelled_acceptance=model[tier][shown],
                candidate_modelled_acceptance=model[tier][best[tier]],
            )
        )
    return log


def _same_as_logging(seed: int, decisions: int) -> list[LoggedDecision]:
    rng = random.Random(seed)
    log = []
    for _ in range(decisions):
        probability = rng.choice((0.05, 0.2, 0.5, 0.9))
        log.append(LoggedDecision("loan_offer", probability, probability, rng.random() < 0.3))
    return log


class TestCandidateSameAsLogging:
    @pytest.mark.parametrize("estimator", ["IPS", "SNIPS"])
    def test_gives_the_logged_acceptance_rate_exactly(self, estimator: str) -> None:
        log = _same_as_logging(3, 500)
        estimate = ESTIMATORS[estimator](log, resamples=200)
        assert estimate.value == sum(d.accepted for d in log) / len(log)
        assert estimate.low <= estimate.value <= estimate.high

    def test_every_decision_counts_fully_in_the_effective_sample_size(self) -> None:
        assert inverse_propensity(_same_as_logging(3, 500)).effective_sample_size == 500

    def test_an_interval_without_spread_when_every_offer_was_accepted(self) -> None:
        log = [LoggedDecision("insurance", 0.4, 0.4, accepted=True)] * 20
        estimate = self_normalised_inverse_propensity(log, resamples=50)
        assert (estimate.low, estimate.value, estimate.high) == (1.0, 1.0, 1.0)


class TestSimulatedBank:
    """Uniform-random logging over five actions, a deterministic candidate."""

    @pytest.mark.parametrize("estimator", ["IPS", "SNIPS", "DR"])
    def test_converges_to_the_candidates_true_rate(self, estimator: str) -> None:
        true_rate = _candidate_rate(PLANTED)
        estimate = ESTIMATORS[estimator](_uniform_log(11, 20_000), resamples=20)
        # IPS's standard error on 20,000 decisions is about 0.007 here.
        assert estimate.value == pytest.approx(true_rate, abs=0.02)

    @pytest.mark.parametrize("estimator", ["IPS", "SNIPS", "DR"])
    def test_the_95_percent_interval_holds_the_true_rate_in_9_seeds_of_10(
        self, estimator: str
    ) -> None:
        true_rate = _candidate_rate(PLANTED)
        held = 0
        for seed in range(200):
            estimate = ESTIMATORS[estimator](_uniform_log(seed, 300), resamples=200, seed=seed)
            held += estimate.low <= true_rate <= estimate.high
        assert held >= 180

    def test_doubly_robust_converges_with_a_wrong_reward_model(self) -> None:
        # A model that thinks every offer is accepted one time in ten: the weighted correction
        # of its errors brings the estimate back to the truth.
        flat = {tier: (0.1,) * len(ACTIONS) for tier in PLANTED}
        estimate = doubly_robust(_uniform_log(11, 20_000, model=flat), resamples=20)
        assert estimate.value == pytest.approx(_candidate_rate(PLANTED), abs=0.02)

    def test_doubly_robust_with_a_perfect_model_varies_less_than_ips(self) -> None:
        # Acceptance common enough that predicting it matters: DR's variance is then about a
        # third of IPS's, here measured over a hundred logs.
        campaign = {
            "mass": (0.2, 0.6, 0.1, 0.4, 0.3),
            "affluent": (0.3, 0.4, 0.7, 0.3, 0.2),
            "premium": (0.4, 0.2, 0.8, 0.2, 0.5),
            "private": (0.5, 0.1, 0.9, 0.1, 0.3),
        }
        logs = [_uniform_log(seed, 300, world=campaign) for seed in range(100)]
        by_ips = [inverse_propensity(log, resamples=1).value for log in logs]
        by_dr = [doubly_robust(log, resamples=1).value for log in logs]
        assert statistics.variance(by_dr) < 0.5 * statistics.variance(by_ips)
        assert statistics.fmean(by_dr) == pytest.approx(_candidate_rate(campaign), abs=0.02)


class TestWeights:
    # An accepted offer the candidate always makes but logging made one time in ten (weight
    # 10), and a declined one both make half the time (weight 1).
    LOG = (
        LoggedDecision("wealth_up_sell", 0.1, 1.0, accepted=True),
        LoggedDecision("card_cross_sell", 0.5, 0.5, accepted=False),
    )

    def test_unclipped_weights_count_in_full(self) -> None:
        assert inverse_propensity(self.LOG).value == pytest.approx(5.0)
        assert self_normalised_inverse_propensity(self.LOG).value == pytest.approx(10 / 11)
        assert inverse_propensity(self.LOG).effective_sample_size == pytest.approx(121 / 101)

    def test_clipping_caps_each_weight(self) -> None:
        assert inverse_propensity(self.LOG, clip=4).value == pytest.approx(2.0)
        assert self_normalised_inverse_propensity(self.LOG, clip=4).value == pytest.approx(0.8)
        assert inverse_propensity(self.LOG, clip=4).effective_sample_size == pytest.approx(25 / 17)

    def test_no_effective_sample_when_the_candidate_takes_no_logged_action(self) -> None:
        log = [LoggedDecision("loan_offer", 0.5, 0.0, accepted=True)] * 10
        assert effective_sample_size([0.0] * 10) == 0.0
        assert self_normalised_inverse_propensity(log).value == 0.0

    def test_the_estimate_reads_with_its_effective_sample_size(self) -> None:
        estimate = inverse_propensity(_uniform_log(5, 1000), resamples=100)
        assert f"effective sample size {estimate.effective_sample_size:.0f} of 1000" in str(
            estimate
        )
        assert str(estimate).startswith(f"IPS {estimate.value:.4f} (95% interval ")


class TestBootstrap:
    def test_the_same_seed_gives_the_same_interval(self) -> None:
        log = _uniform_log(2, 500)
        first, again = doubly_robust(log, seed=9), doubly_robust(log, seed=9)
        other = doubly_robust(log, seed=10)
        assert (first.low, first.high) == (again.low, again.high)
        assert (first.low, first.high) != (other.low, other.high)

    def test_a_lower_confidence_gives_a_narrower_interval(self) -> None:
        log = _uniform_log(2, 500)
        wide, narrow = inverse_propensity(log), inverse_propensity(log, confidence=0.5)
        assert wide.low < narrow.low < narrow.high < wide.high


class TestInvalidInput:
    @pytest.mark.parametrize("probability", [0.0, -0.1, 1.5])
    def test_a_logging_probability_outside_0_to_1(self, probability: float) -> None:
        with pytest.raises(ValueError, match=r"logging_probability of 'loan_offer' must be in"):
            LoggedDecision("loan_offer", probability, 0.5, accepted=False)

    @pytest.mark.parametrize("probability", [-0.1, 1.01])
    def test_a_target_probability_outside_0_to_1(self, probability: float) -> None:
        with pytest.raises(ValueError, match=r"target_probability of 'loan_offer' must be in"):
            LoggedDecision("loan_offer", 0.5, probability, accepted=False)

    def test_a_modelled_acceptance_outside_0_to_1(self) -> None:
        with pytest.raises(ValueError, match=r"modelled_acceptance of 'loan_offer' must be in"):
            LoggedDecision("loan_offer", 0.5, 0.5, accepted=False, modelled_acceptance=2.0)

    @pytest.mark.parametrize("estimator", ["IPS", "SNIPS", "DR"])
    def test_an_empty_log(self, estimator: str) -> None:
        with pytest.raises(ValueError, match="the decision log is empty"):
            ESTIMATORS[estimator]([])

    def test_doubly_robust_without_a_reward_model(self) -> None:
        with pytest.raises(ValueError, match="needs modelled_acceptance"):
            doubly_robust([LoggedDecision("loan_offer", 0.5, 0.5, accepted=True)])

    @pytest.mark.parametrize(
        ("clip", "resamples", "confidence", "message"),
        [
            (0.0, 100, 0.95, "clip must be positive"),
            (None, 0, 0.95, "resamples must be at least 1"),
            (None, 100, 1.0, r"confidence must be in \(0, 1\)"),
        ],
    )
    def test_a_setting_out_of_range(
        self, clip: float | None, resamples: int, confidence: float, message: str
    ) -> None:
        log = [LoggedDecision("loan_offer", 0.5, 0.5, accepted=True)]
        with pytest.raises(ValueError, match=message):
            inverse_propensity(log, clip=clip, resamples=resamples, confidence=confidence)
