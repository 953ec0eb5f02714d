"""What the action models have learned, for the detector's order of competing matches: each
rule's action's acceptance across customers (its model's totals, no predictors: the order is
decided per rule, before any one customer's features are read). No HTTP, no commit."""

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.events.config import Settings
from services.events.detector import LiveRule
from services.events.next_best import repository
from services.events.next_best.catalogue import CATALOGUE, catalogue
from services.events.next_best.policy import PROPENSITY_PLACES
from shared.adaptive_model import Prior, propensity


async def learned_rates(
    session: AsyncSession, rules: Sequence[LiveRule], settings: Settings
) -> list[LiveRule]:
    """The rules, each with its action's learned acceptance (the prior's until responses
    arrive: then the order is the catalogue's, as before anything was learned)."""
    actions = catalogue(settings.action_catalogue or CATALOGUE)
    action_of = {
        live.rule_id: actions.action_of(live.definition.action.kind, live.definition.action.product)
        for live in rules
    }
    evidence = await repository.evidence(session, sorted(set(action_of.values())))
    rated = []
    for live in rules:
        action_id = action_of[live.rule_id]
        seen = evidence.get(action_id)
        if seen is None or seen.responses == 0:
            rated.append(live)
            continue
        prior = Prior(float(actions.actions[action_id].propensity), settings.nba_prior_strength)
        rate = propensity(seen, {}, prior, predictors=()).mean
        learned = Decimal(rate).quantize(PROPENSITY_PLACES)
        rated.append(dataclasses.replace(live, learned_propensity=learned))
    return rated
