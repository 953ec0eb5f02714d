"""Off-policy evaluation: what a candidate strategy's acceptance rate would have been, estimated
from the decision log of the strategy that actually served, before the candidate goes live.

Pure: the caller reads the log and, for each logged decision, asks the candidate how likely it
was to choose the same action. Three estimators, each with a percentile-bootstrap interval:

- inverse propensity scoring (IPS): each accepted offer counts π_candidate / π_logging times;
  unbiased when the logging probabilities are right and every action the candidate takes was
  possible under logging, but its variance grows with the weights;
- self-normalised IPS (SNIPS): the same weighted acceptances divided by the sum of the weights
  rather than the number of decisions; slightly biased, much steadier when weights are large;
- doubly robust (DR): a reward model's estimate of the candidate's rate, corrected by the
  weighted error of the model on the logged action; unbiased if either the logging
  probabilities or the model is right, and with a good model its variance is lower than IPS's.

The effective sample size (Kish) says how many decisions the weighted estimate is worth: when
it is a small share of the log, a few decisions carry the estimate and it is not to be trusted.
"""

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95

Row = TypeVar("Row")


@dataclass(frozen=True)
class LoggedDecision:
    """One entry of the decision log: the action shown first to a customer and its outcome.

    `logging_probability` is the probability with which the serving strategy chose `action`
    (its exploration made every action possible), `target_probability` the probability with
    which the candidate would have chosen the same action for the same customer at that moment.
    The doubly robust estimator also needs a reward model: `modelled_acceptance` is its
    estimate for the logged action, `candidate_modelled_acceptance` the candidate's expected
    acceptance under the model, Σ_a π_candidate(a|x) · r̂(x, a)."""

    action: str
    logging_probability: float
    target_probability: float
    accepted: bool
    modelled_acceptance: float | None = None
    candidate_modelled_acceptance: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.logging_probability <= 1:
            raise ValueError(
                f"logging_probability of {self.action!r} must be in (0, 1], "
                f"got {self.logging_probability}: an action the serving strategy could not "
                "choose cannot have been logged"
            )
        if not 0 <= self.target_probability <= 1:
            raise ValueError(
                f"target_probability of {self.action!r} must be in [0, 1], "
                f"got {self.target_probability}"
            )
        for name in ("modelled_acceptance", "candidate_modelled_acceptance"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise ValueError(f"{name} of {self.action!r} must be in [0, 1], got {value}")

    @property
    def reward(self) -> float:
        return 1.0 if self.accepted else 0.0


@dataclass(frozen=True)
class PolicyEstimate:
    """A candidate's estimated acceptance rate, its bootstrap interval and what it is worth."""

    estimator: str
    value: float
    low: float
    high: float
    confidence: float
    decisions: int
    # Kish's effective sample size of the (clipped) weights: (Σw)² / Σw².
    effective_sample_size: float

    def __str__(self) -> str:
        share = self.effective_sample_size / self.decisions
        return (
            f"{self.estimator} {self.value:.4f} "
            f"({self.confidence:.0%} interval {self.low:.4f} to {self.high:.4f}), "
            f"effective sample size {self.effective_sample_size:.0f} of {self.decisions} "
            f"decisions ({share:.1%})"
        )


@dataclass(frozen=True)
class _Weighted:
    """The log reduced to what the estimators sum: weights and weighted acceptances."""

    weights: list[float]
    weighted_rewards: list[float]


def inverse_propensity(
    log: Sequence[LoggedDecision],
    *,
    clip: float | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> PolicyEstimate:
    """IPS: the mean over the log of w · r, w = π_candidate / π_logging.

    `clip`, when given, caps each weight at that value (off by default): when a few decisions
    carry very large weights it trades a downward bias (the capped decisions count less than
    they should) for a lower variance. The interval is a percentile bootstrap over the
    decisions, drawn from a generator seeded with `seed`, so the same log gives the same
    interval."""
    weighted = _weigh(log, clip=clip, resamples=resamples, confidence=confidence)
    terms = weighted.weighted_rewards
    interval = _bootstrap(terms, _mean, resamples=resamples, confidence=confidence, seed=seed)
    return _estimate("IPS", _mean(terms), interval, confidence, weighted)


def self_normalised_inverse_propensity(
    log: Sequence[LoggedDecision],
    *,
    clip: float | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> PolicyEstimate:
    """SNIPS: Σ w · r / Σ w. `clip`, `resamples`, `confidence` and `seed` as for IPS.

    When no logged decision is one the candidate would take (Σ w = 0) the log says nothing of
    the candidate; the estimate is then 0, as IPS's is."""
    weighted = _weigh(log, clip=clip, resamples=resamples, confidence=confidence)
    pairs = list(zip(weighted.weights, weighted.weighted_rewards, strict=True))
    interval = _bootstrap(
        pairs, _self_normalised, resamples=resamples, confidence=confidence, seed=seed
    )
    return _estimate("SNIPS", _self_normalised(pairs), interval, confidence, weighted)


def doubly_robust(
    log: Sequence[LoggedDecision],
    *,
    clip: float | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> PolicyEstimate:
    """DR: the mean over the log of Σ_a π_candidate(a|x) · r̂(x, a) + w · (r - r̂(x, a_logged)).

    Every decision must carry both modelled acceptances. `clip`, `resamples`, `confidence` and
    `seed` as for IPS."""
    weighted = _weigh(log, clip=clip, resamples=resamples, confidence=confidence)
    terms: list[float] = []
    for decision, weight in zip(log, weighted.weights, strict=True):
        modelled, candidate = decision.modelled_acceptance, decision.candidate_modelled_acceptance
        if modelled is None or candidate is None:
            raise ValueError(
                "the doubly robust estimate needs modelled_acceptance and "
                f"candidate_modelled_acceptance on every decision; {decision.action!r} lacks one"
            )
        terms.append(candidate + weight * (decision.reward - modelled))
    interval = _bootstrap(terms, _mean, resamples=resamples, confidence=confidence, seed=seed)
    return _estimate("DR", _mean(terms), interval, confidence, weighted)


def effective_sample_size(weights: Sequence[float]) -> float:
    """Kish's effective sample size, (Σw)² / Σw²: n when all weights are equal and positive,
    near 1 when one weight dominates, 0 when the candidate would take none of the logged
    actions."""
    squares = math.fsum(w * w for w in weights)
    return math.fsum(weights) ** 2 / squares if squares > 0 else 0.0


def _weigh(
    log: Sequence[LoggedDecision], *, clip: float | None, resamples: int, confidence: float
) -> _Weighted:
    if not log:
        raise ValueError("the decision log is empty: there is nothing to estimate from")
    if clip is not None and clip <= 0:
        raise ValueError(f"clip must be positive, got {clip}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    weights = [d.target_probability / d.logging_probability for d in log]
    if clip is not None:
        weights = [min(w, clip) for w in weights]
    return _Weighted(weights, [w * d.reward for w, d in zip(weights, log, strict=True)])


def _estimate(
    estimator: str,
    value: float,
    interval: tuple[float, float],
    confidence: float,
    weighted: _Weighted,
) -> PolicyEstimate:
    return PolicyEstimate(
        estimator=estimator,
        value=value,
        low=interval[0],
        high=interval[1],
        confidence=confidence,
        decisions=len(weighted.weights),
        effective_sample_size=effective_sample_size(weighted.weights),
    )


def _mean(terms: Sequence[float]) -> float:
    return sum(terms) / len(terms)


def _self_normalised(pairs: Sequence[tuple[float, float]]) -> float:
    weights, terms = zip(*pairs, strict=True)
    total = sum(weights)
    return sum(terms) / total if total > 0 else 0.0


def _bootstrap(
    rows: Sequence[Row],
    statistic: Callable[[Sequence[Row]], float],
    *,
    resamples: int,
    confidence: float,
    seed: int,
) -> tuple[float, float]:
    # Drawing the rows themselves, not their positions, keeps the draw and the sums in C.
    rng = random.Random(seed)
    n = len(rows)
    values = [statistic(rng.choices(rows, k=n)) for _ in range(resamples)]
    return _percentile_interval(values, confidence)


def _percentile_interval(values: list[float], confidence: float) -> tuple[float, float]:
    values.sort()
    tail = (1 - confidence) / 2
    return _percentile(values, tail), _percentile(values, 1 - tail)


def _percentile(ordered: list[float], share: float) -> float:
    # Linear interpolation between order statistics (numpy's default, R's type 7).
    position = share * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
