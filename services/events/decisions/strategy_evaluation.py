"""A candidate strategy scored on the decision log before it goes live (off-policy evaluation,
``next_best/off_policy.py``). The candidate is the learned ranking without exploration, with
business weights of its own: for each logged ranking whose first entry was answered, it would
have put first the entry of highest estimate × value × its weight (service recovery first, as
the ranking does). No HTTP, no commit."""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.events.decisions import repository
from services.events.decisions.repository import LoggedRanking
from services.events.decisions.schemas import StrategyEstimate, StrategyEvaluation
from services.events.next_best.catalogue import ActionCatalogue
from services.events.next_best.off_policy import (
    LoggedDecision,
    doubly_robust,
    inverse_propensity,
    self_normalised_inverse_propensity,
)
from services.events.next_best.policy import offer_order
from services.events.rules import ActionKind


def candidate_first(
    ranking: LoggedRanking, actions: ActionCatalogue, weights: Mapping[str, Decimal]
) -> str:
    def order(entry: tuple[str, float, float]) -> tuple[bool, Decimal, str]:
        action_id, estimate, _ = entry
        action = actions.actions[action_id]
        expected = Decimal(estimate) * action.value * weights.get(action_id, Decimal(1))
        return offer_order(action.kind is ActionKind.SERVICE_RECOVERY, expected, action_id)

    return min(ranking.entries, key=order)[0]


def logged_decisions(
    rankings: Sequence[LoggedRanking], actions: ActionCatalogue, weights: Mapping[str, Decimal]
) -> list[LoggedDecision]:
    decisions = []
    for ranking in rankings:
        known = {a: (estimate, p) for a, estimate, p in ranking.entries if a in actions.actions}
        if ranking.served not in known or known[ranking.served][1] <= 0:
            continue  # an action since removed from the catalogue, or never likely first
        chosen = candidate_first(
            LoggedRanking(
                ranking.decision_id,
                [(a, e, p) for a, (e, p) in known.items()],
                ranking.served,
                ranking.accepted,
            ),
            actions,
            weights,
        )
        decisions.append(
            LoggedDecision(
                action=ranking.served,
                logging_probability=known[ranking.served][1],
                target_probability=1.0 if chosen == ranking.served else 0.0,
                accepted=ranking.accepted,
                modelled_acceptance=known[ranking.served][0],
                candidate_modelled_acceptance=known[chosen][0],
            )
        )
    return decisions


async def evaluate(
    session: AsyncSession,
    actions: ActionCatalogue,
    weights: Mapping[str, Decimal],
    *,
    now: datetime,
    days: int,
    limit: int,
    resamples: int,
) -> StrategyEvaluation:
    rankings = await repository.answered_rankings(session, now - timedelta(days=days), limit)
    logged = logged_decisions(rankings, actions, weights)
    if not logged:
        return StrategyEvaluation(decisions=0, logged_rate=None, agreement=None, estimates=[])
    estimates = [
        estimator(logged, resamples=resamples, seed=0)
        for estimator in (inverse_propensity, self_normalised_inverse_propensity, doubly_robust)
    ]
    return StrategyEvaluation(
        decisions=len(logged),
        logged_rate=sum(d.accepted for d in logged) / len(logged),
        agreement=sum(d.target_probability for d in logged) / len(logged),
        estimates=[
            StrategyEstimate(
                estimator=e.estimator,
                value=e.value,
                low=e.low,
                high=e.high,
                effective_sample_size=e.effective_sample_size,
            )
            for e in estimates
        ],
    )
