"""An adaptive propensity model kept as counts: naive Bayes over binned predictors.

This is how Pega's adaptive models keep their evidence: for each predictor and each of its bins,
how many positive and negative responses were seen. The counts make the model explainable (each
predictor's bin moves the log-odds by a visible amount), let a response be learned in the
database transaction that records it (one upsert, so a redelivered response can be refused by
the same transaction), and let the model be read back at any moment. A library learner such as
``river``'s keeps its state in Python objects that would have to be pickled per response and
could not be updated exactly once with the response's own row; the formulas here are short.

Only predictors that separate positives from negatives take part (Pega's "active" predictors):
a predictor whose bins rank the responses no better than chance (AUC under ``min_auc``, or
not significantly above one half) would only add noise to the naive Bayes sum.
"""

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Pega's default predictor performance threshold is 52 (an AUC of 0.52).
MIN_PREDICTOR_AUC = 0.52
# Below this many positive responses no predictor is trusted: the base rate alone.
MIN_POSITIVES_FOR_PREDICTORS = 10


@dataclass(frozen=True)
class BinCounts:
    positives: int = 0
    negatives: int = 0


@dataclass
class Evidence:
    """What one model has seen: the responses in total and per predictor bin."""

    positives: int = 0
    negatives: int = 0
    bins: dict[str, dict[str, BinCounts]] = field(default_factory=dict)

    @property
    def responses(self) -> int:
        return self.positives + self.negatives

    def add(self, predictor: str, bin_: str, counts: BinCounts) -> None:
        self.bins.setdefault(predictor, {})[bin_] = counts


@dataclass(frozen=True)
class Prior:
    """The propensity believed before any response, and how many responses it is worth."""

    propensity: float
    strength: float = 20.0


def predictor_auc(bins: Mapping[str, BinCounts]) -> float:
    """The area under the ROC curve of ranking responses by their bin's positive rate (the
    Mann-Whitney statistic over bins, ties counted half)."""
    ordered = sorted(bins.values(), key=lambda c: c.positives / max(c.positives + c.negatives, 1))
    positives = sum(c.positives for c in ordered)
    negatives = sum(c.negatives for c in ordered)
    if positives == 0 or negatives == 0:
        return 0.5
    concordant, seen_positives = 0.0, 0
    for counts in reversed(ordered):  # from the highest rate down
        concordant += counts.negatives * (seen_positives + counts.positives / 2)
        seen_positives += counts.positives
    return concordant / (positives * negatives)


def auc_is_significant(auc: float, positives: int, negatives: int) -> bool:
    """Hanley and McNeil's standard error of an AUC; two of them above one half."""
    if positives == 0 or negatives == 0:
        return False
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc)
    ) / (positives * negatives)
    return auc - 0.5 > 2 * math.sqrt(max(variance, 0.0))


def active_predictors(evidence: Evidence, *, min_auc: float = MIN_PREDICTOR_AUC) -> list[str]:
    if evidence.positives < MIN_POSITIVES_FOR_PREDICTORS:
        return []
    active = []
    for predictor, bins in sorted(evidence.bins.items()):
        auc = predictor_auc(bins)
        if auc >= min_auc and auc_is_significant(auc, evidence.positives, evidence.negatives):
            active.append(predictor)
    return active


@dataclass(frozen=True)
class Propensity:
    """The posterior mean chance of a positive response, the log-odds each active predictor
    added (the explanation), and the evidence behind it (the spread of the posterior)."""

    mean: float
    contributions: dict[str, float]
    evidence: float

    def draw(self, rng: random.Random) -> float:
        """One draw from the posterior (Thompson sampling), approximated by the Beta of this
        mean that holds the evidence of the customer's thinnest bin."""
        alpha = max(self.mean * self.evidence, 1e-6)
        beta = max((1 - self.mean) * self.evidence, 1e-6)
        return rng.betavariate(alpha, beta)


def propensity(
    evidence: Evidence,
    features: Mapping[str, str],
    prior: Prior,
    *,
    predictors: Iterable[str] | None = None,
) -> Propensity:
    """P(positive | features) by naive Bayes over the active predictors, starting from the
    prior's pseudo-responses; an unseen bin counts as empty (Laplace smoothing)."""
    alpha = prior.propensity * prior.strength + evidence.positives
    beta = (1 - prior.propensity) * prior.strength + evidence.negatives
    log_odds = math.log(max(alpha, 1e-9) / max(beta, 1e-9))
    contributions: dict[str, float] = {}
    thinnest = prior.strength + evidence.responses
    for predictor in active_predictors(evidence) if predictors is None else predictors:
        bins = evidence.bins.get(predictor, {})
        counts = bins.get(features.get(predictor, ""), BinCounts())
        size = len(bins) + 1
        given_positive = (counts.positives + 1) / (evidence.positives + size)
        given_negative = (counts.negatives + 1) / (evidence.negatives + size)
        contributions[predictor] = math.log(given_positive / given_negative)
        log_odds += contributions[predictor]
        thinnest = min(thinnest, prior.strength + counts.positives + counts.negatives)
    mean = 1 / (1 + math.exp(-log_odds))
    return Propensity(mean=mean, contributions=contributions, evidence=thinnest)
