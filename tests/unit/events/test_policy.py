"""The learned policy: a new action's ramp, exploration, and the probability of each action
being put first, which off-policy evaluation weighs the log by."""

import random
from decimal import Decimal

import pytest

from services.events.next_best.catalogue import catalogue
from services.events.next_best.policy import (
    ActionScore,
    Candidate,
    PolicySettings,
    draw,
    first,
    first_choice_probabilities,
    score_actions,
)
from shared.adaptive_model import Evidence, Propensity

SETTINGS = PolicySettings(exploration=0.5, prior_strength=20)


def _score(mean: float, evidence: float, reach: float = 1.0) -> ActionScore:
    return ActionScore(Propensity(mean, {}, evidence), reach, int(evidence))


def test_a_new_action_reaches_more_decisions_as_its_positives_grow() -> None:
    actions = catalogue()
    ramped = next(a for a in actions.actions.values() if a.kind.is_marketing)
    patched = type(actions)(
        {**actions.actions, "trial": ramped.model_copy(update={"ramp_up": True})}
    )
    reach = {}
    for positives in (0, 100, 200, 400):
        evidence = {"trial": Evidence(positives=positives, negatives=positives * 9)}
        reach[positives] = score_actions(evidence, patched, {}, SETTINGS)["trial"].reach
    assert reach[0] == pytest.approx(0.02)
    assert reach[100] == pytest.approx(0.51)
    assert reach[200] == reach[400] == 1.0
    assert score_actions({}, patched, {}, SETTINGS)["retention_call"].reach == 1.0


def test_the_first_choice_probabilities_match_how_often_the_policy_puts_each_first() -> None:
    scores = {"a": _score(0.10, 40), "b": _score(0.08, 40), "c": _score(0.05, 400, reach=0.5)}
    candidates = [Candidate(k, False, Decimal(100)) for k in scores]
    rng = random.Random(11)
    served = draw(scores, SETTINGS, rng)
    settings = PolicySettings(exploration=0.5, prior_strength=20, samples=4000)
    estimated = first_choice_probabilities(candidates, scores, settings, served, rng)
    assert sum(estimated.values()) == pytest.approx(1, abs=1e-6)
    observed = dict.fromkeys(scores, 0)
    for _ in range(4000):
        chosen = first(candidates, draw(scores, settings, rng))
        assert chosen is not None
        observed[chosen] += 1
    for action, probability in estimated.items():
        assert float(probability) == pytest.approx(observed[action] / 4000, abs=0.03)
    assert estimated[served_first := first(candidates, served) or ""] > 0
    assert served_first in scores


def test_without_exploration_or_ramp_the_policy_is_certain() -> None:
    scores = {"a": _score(0.10, 40), "b": _score(0.08, 40)}
    candidates = [Candidate(k, False, Decimal(100)) for k in scores]
    settings = PolicySettings(exploration=0.0, prior_strength=20)
    rng = random.Random(1)
    served = draw(scores, settings, rng)
    assert served.explored is False
    assert first_choice_probabilities(candidates, scores, settings, served, rng) == {
        "a": Decimal(1),
        "b": Decimal(0),
    }


def test_service_recovery_comes_first_whatever_the_models_say() -> None:
    scores = {"recovery": _score(0.01, 40), "offer": _score(0.9, 40)}
    candidates = [
        Candidate("recovery", True, Decimal(0)),
        Candidate("offer", False, Decimal(1000)),
    ]
    assert first(candidates, draw(scores, SETTINGS, random.Random(2))) == "recovery"
