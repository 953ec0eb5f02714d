"""The next best actions of one customer: their context read, each action's propensity
learned, the arbitration applied, and the decision kept. No HTTP, no commit."""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.decisions import NextBestActionDecided, RankedAction
from services.events.config import Settings
from services.events.decisions import repository as decisions_repository
from services.events.decisions.repository import LoggedEntry
from services.events.next_best import policy, repository
from services.events.next_best.catalogue import CATALOGUE, catalogue
from services.events.next_best.features import CustomerFacts, decision_features
from services.events.next_best.ranking import Arbitration, CustomerContext, OpenOffer, arbitrate
from services.events.rules import ActionKind
from services.events.service import business_day
from shared.outbox import record_event


@dataclass(frozen=True)
class Decision:
    decision_id: uuid.UUID
    explored: bool
    arbitration: Arbitration
    scores: dict[str, policy.ActionScore]
    first_choice: dict[str, Decimal]  # the probability of each ranked action being put first


def policy_settings(settings: Settings) -> policy.PolicySettings:
    return policy.PolicySettings(
        exploration=settings.nba_exploration,
        prior_strength=settings.nba_prior_strength,
        samples=settings.nba_choice_samples,
    )


async def next_best_actions(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    channel: str | None,
    settings: Settings,
    now: datetime,
    manager_id: str | None,
) -> Decision | None:
    """None when the customer is unknown to the detector, or (``manager_id`` given: a
    manager asks) not that manager's."""
    window = settings.fatigue_window_days
    today = business_day(now, settings)
    row = await repository.context_of(
        session,
        customer_id,
        since_day=today - timedelta(days=window - 1),
        since_at=now - timedelta(days=window),
        month_ago=today - timedelta(days=30),
    )
    if row is None or (manager_id is not None and row.manager_id != manager_id):
        return None
    context = CustomerContext(
        status=row.status,
        consent=row.consent,
        open_complaints=row.open_complaints,
        products_held=frozenset(row.products_held),
        contacts_in_window=row.offers + row.conversations,
    )
    facts = CustomerFacts(
        value_tier=row.value_tier,
        loyalty=row.loyalty,
        lifecycle_stage=row.lifecycle_stage,
        quadrant=row.quadrant,
        products_held=len(row.products_held),
        last_activity_at=row.last_activity_at,
        balance_now=row.balance_now,
        balance_month_ago=row.balance_month_ago,
    )
    features = decision_features(facts, channel, now)
    offers = [
        OpenOffer(o.id, o.rule_id, o.action, o.product)
        for o in await repository.open_offers(session, customer_id)
    ]
    actions = catalogue(settings.action_catalogue or CATALOGUE)
    rules = policy_settings(settings)
    evidence = await repository.evidence(session, list(actions.actions))
    scores = policy.score_actions(evidence, actions, features, rules)
    decision_id = uuid.uuid4()
    # Seeded by the decision, so that its draws can be told again from its id.
    rng = random.Random(decision_id.int)
    served = policy.draw(scores, rules, rng)
    arbitration = arbitrate(
        context,
        offers,
        actions,
        channel=channel,
        weights=settings.action_weights,
        fatigue_cap=settings.fatigue_cap,
        propensities=served.propensities,
        out_of_reach=served.out_of_reach,
    )
    rankable = [
        policy.Candidate(r.action_id, r.action.kind is ActionKind.SERVICE_RECOVERY, worth)
        for r, worth in ((r, r.factors["value"] * r.factors["weight"]) for r in arbitration.ranked)
    ] + [
        policy.Candidate(w.action_id, False, _worth(w.action_id, settings))
        for w in arbitration.withheld
        if w.reason == "ramping_up"
    ]
    first_choice = policy.first_choice_probabilities(rankable, scores, rules, served, rng)
    entries = [
        LoggedEntry(
            action_id=r.action_id,
            rank=rank,
            opportunity_id=r.opportunity.opportunity_id if r.opportunity else None,
            propensity=Decimal(scores[r.action_id].model.mean).quantize(policy.PROPENSITY_PLACES),
            ranked_propensity=r.factors["propensity"],
            expected_value=r.factors["expected_value"].quantize(Decimal("0.0001")),
            choice_probability=first_choice[r.action_id],
        )
        for rank, r in enumerate(arbitration.ranked, start=1)
    ]
    model_versions = {a: scores[a].responses for a in first_choice}
    await decisions_repository.keep_decision(
        session,
        decision_id=decision_id,
        customer_id=customer_id,
        channel=channel,
        served_at=now,
        explored=served.explored,
        features=features,
        model_versions=model_versions,
        entries=entries,
    )
    # In the decision's transaction: published if and only if it is kept.
    await record_event(
        session,
        NextBestActionDecided(
            decision_id=decision_id,
            customer_id=customer_id,
            channel=channel,
            served_at=now,
            explored=served.explored,
            features=features,
            model_versions=model_versions,
            entries=[
                RankedAction(
                    action_id=e.action_id,
                    rank=e.rank,
                    opportunity_id=e.opportunity_id,
                    propensity=e.ranked_propensity,
                    model_estimate=e.propensity,
                    expected_value=e.expected_value,
                    first_choice_probability=e.choice_probability,
                )
                for e in entries
            ],
        ),
    )
    return Decision(decision_id, served.explored, arbitration, scores, first_choice)


def _worth(action_id: str, settings: Settings) -> Decimal:
    action = catalogue(settings.action_catalogue or CATALOGUE).actions[action_id]
    return action.value * settings.action_weights.get(action_id, Decimal(1))
