"""The planted world ``crm simulate-offers`` runs: customers who accept each action with a
probability the service never sees, and what the rankings it is compared with would have won.

Pure: the command feeds the customers to the detector and drives the API; this module draws the
customers, keeps the planted probabilities, and scores a run (acceptance against priority-only
and the oracle, the AUC of the learned propensities beside the planted ones', and the
off-policy estimate of a candidate strategy beside that strategy's true rate)."""

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.events.decisions.health import auc
from services.events.next_best.off_policy import (
    LoggedDecision,
    PolicyEstimate,
    doubly_robust,
    inverse_propensity,
    self_normalised_inverse_propensity,
)

ACTIONS = ("retention_call", "card_cross_sell", "wealth_up_sell", "loan_offer", "insurance")
# Acceptance by value tier × action; the retention call's ×4 for customers whose balances fell
# 30% or more in 30 days.
PLANTED: dict[str, dict[str, float]] = {
    "mass": dict(zip(ACTIONS, (0.02, 0.12, 0.01, 0.08, 0.04), strict=True)),
    "affluent": dict(zip(ACTIONS, (0.04, 0.06, 0.10, 0.05, 0.03), strict=True)),
    "premium": dict(zip(ACTIONS, (0.06, 0.03, 0.18, 0.02, 0.07), strict=True)),
    "private": dict(zip(ACTIONS, (0.10, 0.01, 0.25, 0.01, 0.05), strict=True)),
}
DROP_FACTOR = 4.0
# The planted tiers as the bank's value tiers name them.
BANK_TIER = {"mass": "ordinary", "affluent": "potential", "premium": "key", "private": "premium"}
# Priority-only offers the rule with the highest built-in priority: the retention call.
PRIORITY_FIRST = "retention_call"


@dataclass(frozen=True)
class SimulatedCustomer:
    customer_id: uuid.UUID
    tier: str  # a planted tier
    balance_fell: bool  # by 30% or more over the last 30 days

    def acceptance(self, action: str) -> float:
        chance = PLANTED[self.tier][action]
        return chance * DROP_FACTOR if self.balance_fell and action == "retention_call" else chance

    def oracle(self) -> float:
        return max(self.acceptance(a) for a in ACTIONS)


def draw_customers(count: int, rng: random.Random, fell_share: float) -> list[SimulatedCustomer]:
    tiers = sorted(PLANTED)
    return [
        SimulatedCustomer(
            uuid.UUID(int=rng.getrandbits(128)), rng.choice(tiers), rng.random() < fell_share
        )
        for _ in range(count)
    ]


@dataclass(frozen=True)
class Offer:
    """One offer of the measured phase: what the learned ranking served and how it went."""

    customer: SimulatedCustomer
    served: str
    accepted: bool
    estimates: Mapping[str, float]  # each action's model estimate at the decision
    first_choice_probability: float  # the probability that the policy served ``served``


@dataclass(frozen=True)
class SeedResult:
    learned: float  # planted acceptance of what the learned ranking served, on average
    accepted: float  # the share of those offers actually accepted
    priority_only: float
    oracle: float
    learned_auc: float | None
    planted_auc: float | None
    candidate: dict[str, PolicyEstimate]  # by estimator: ips, snips, dr
    candidate_true: float

    def covered(self, estimator: str) -> bool:
        estimate = self.candidate[estimator]
        return estimate.low <= self.candidate_true <= estimate.high


def candidate_choice(estimates: Mapping[str, float], weights: Mapping[str, float]) -> str:
    """The candidate strategy: the learned estimates alone (no exploration) with the given
    business weights, every action's value alike."""
    return max(sorted(estimates), key=lambda a: estimates[a] * weights.get(a, 1.0))


def score(
    offers: Sequence[Offer], weights: Mapping[str, float], *, seed: int, resamples: int
) -> SeedResult:
    count = len(offers)
    logged = []
    true_rate = 0.0
    for offer in offers:
        chosen = candidate_choice(offer.estimates, weights)
        true_rate += offer.customer.acceptance(chosen)
        logged.append(
            LoggedDecision(
                action=offer.served,
                logging_probability=offer.first_choice_probability,
                target_probability=1.0 if chosen == offer.served else 0.0,
                accepted=offer.accepted,
                modelled_acceptance=offer.estimates[offer.served],
                candidate_modelled_acceptance=offer.estimates[chosen],
            )
        )
    estimates = {
        "ips": inverse_propensity(logged, seed=seed, resamples=resamples),
        "snips": self_normalised_inverse_propensity(logged, seed=seed, resamples=resamples),
        "dr": doubly_robust(logged, seed=seed, resamples=resamples),
    }
    return SeedResult(
        learned=sum(o.customer.acceptance(o.served) for o in offers) / count,
        accepted=sum(o.accepted for o in offers) / count,
        priority_only=sum(o.customer.acceptance(PRIORITY_FIRST) for o in offers) / count,
        oracle=sum(o.customer.oracle() for o in offers) / count,
        learned_auc=auc([(o.estimates[o.served], o.accepted) for o in offers]),
        planted_auc=auc([(o.customer.acceptance(o.served), o.accepted) for o in offers]),
        candidate=estimates,
        candidate_true=true_rate / count,
    )
