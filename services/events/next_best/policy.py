"""The learned policy: each action's propensity from its adaptive model, the exploration that
lets the models keep learning, a new action's ramp, and the probability with which the policy
puts each action first (what off-policy evaluation weighs the logged responses by).

Pure: the caller reads the models' evidence and keeps the decision."""

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from services.events.next_best.catalogue import ActionCatalogue
from shared.adaptive_model import Evidence, Prior, Propensity, propensity

PROPENSITY_PLACES = Decimal("0.00000001")


@dataclass(frozen=True)
class PolicySettings:
    # The share of decisions that rank by a draw from each model's posterior (Thompson
    # sampling) rather than by its mean: what keeps a model that is wrong from never learning.
    exploration: float
    # The catalogue's prior propensity counts as this many responses.
    prior_strength: float
    # A new action (``ramp_up`` in the catalogue) reaches this share of decisions at first and
    # every decision once it has ``ramp_positives`` positive responses (Pega's 2% and 200).
    ramp_start: float = 0.02
    ramp_positives: int = 200
    # Draws that estimate the probability of each action being put first.
    samples: int = 200


@dataclass(frozen=True)
class ActionScore:
    model: Propensity
    reach: float  # the share of decisions the action may enter
    responses: int  # the model's version: the responses it has learned from


@dataclass(frozen=True)
class Candidate:
    """A rankable action as the policy compares them."""

    action_id: str
    recovery: bool  # service recovery comes first, whatever the models say
    worth: Decimal  # value × business weight


@dataclass(frozen=True)
class Draw:
    explored: bool
    propensities: dict[str, Decimal]  # what the ranking multiplies by
    out_of_reach: frozenset[str]


def score_actions(
    evidence: Mapping[str, Evidence],
    actions: ActionCatalogue,
    features: Mapping[str, str],
    settings: PolicySettings,
) -> dict[str, ActionScore]:
    scores = {}
    for action_id, action in actions.actions.items():
        seen = evidence.get(action_id, Evidence())
        prior = Prior(float(action.propensity), settings.prior_strength)
        reach = 1.0
        if action.ramp_up and action.kind.is_marketing:
            grown = seen.positives / settings.ramp_positives
            reach = min(1.0, settings.ramp_start + (1 - settings.ramp_start) * grown)
        scores[action_id] = ActionScore(propensity(seen, features, prior), reach, seen.responses)
    return scores


def draw(scores: Mapping[str, ActionScore], settings: PolicySettings, rng: random.Random) -> Draw:
    explored = rng.random() < settings.exploration
    propensities, out_of_reach = {}, set()
    for action_id, score in sorted(scores.items()):
        value = score.model.draw(rng) if explored else score.model.mean
        propensities[action_id] = Decimal(value).quantize(PROPENSITY_PLACES)
        if score.reach < 1 and rng.random() >= score.reach:
            out_of_reach.add(action_id)
    return Draw(explored, propensities, frozenset(out_of_reach))


def offer_order(
    recovery: bool, expected_value: Decimal, action_id: str
) -> tuple[bool, Decimal, str]:
    """The ranking's order, one key for every place that ranks: service recovery first, then
    the expected value, highest first, then the action id, so that ties fall alike."""
    return (not recovery, -expected_value, action_id)


def first(candidates: Sequence[Candidate], drawn: Draw) -> str | None:
    """The action a draw puts first: the ranking's order (``ranking.arbitrate``)."""
    best: tuple[bool, Decimal, str] | None = None
    for c in candidates:
        if c.action_id in drawn.out_of_reach:
            continue
        key = offer_order(c.recovery, drawn.propensities[c.action_id] * c.worth, c.action_id)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]


def first_choice_probabilities(
    candidates: Sequence[Candidate],
    scores: Mapping[str, ActionScore],
    settings: PolicySettings,
    served: Draw,
    rng: random.Random,
) -> dict[str, Decimal]:
    """How often the policy puts each candidate first, over the served draw and
    ``settings.samples`` more: never zero for the one served, so its weight is finite."""
    counts = dict.fromkeys((c.action_id for c in candidates), 0)
    rankable = {a: scores[a] for a in counts}
    deterministic = settings.exploration == 0 and all(s.reach >= 1 for s in rankable.values())
    draws = 1 if deterministic else settings.samples + 1
    for n in range(draws):
        chosen = first(candidates, served if n == 0 else draw(rankable, settings, rng))
        if chosen is not None:
            counts[chosen] += 1
    return {a: (Decimal(k) / draws).quantize(PROPENSITY_PLACES) for a, k in counts.items()}
