"""Responses recorded against the decision log, and the models' health. No HTTP, no commit."""

import contextlib
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from services.events import outcomes
from services.events.decisions import health, learning, repository
from services.events.decisions.schemas import ActionPerformance, DecileRead, ResponseRead
from services.events.errors import DecisionNotFound, OutcomeNotAllowed, ResponseRecorded
from services.events.next_best.catalogue import CATALOGUE, catalogue
from services.events.next_best.repository import evidence
from shared.adaptive_model import active_predictors, predictor_auc

# A response closes the opportunity the entry offered, as its owner's outcome would.
CLOSES_OPPORTUNITY = frozenset({"accepted", "declined"})


async def record_response(
    session: AsyncSession,
    decision_id: uuid.UUID,
    action_id: str,
    outcome: str,
    *,
    now: datetime,
    manager_id: str | None,
) -> ResponseRead:
    """The customer's response to an action a decision served. The same response again is
    answered as recorded, learning nothing; a different one is a conflict."""
    logged = await repository.entry(session, decision_id, action_id)
    if logged is None or (manager_id is not None and logged.manager_id != manager_id):
        raise DecisionNotFound(f"no action {action_id!r} served by decision {decision_id}")
    if logged.outcome not in (None, learning.SUPERSEDED):
        if logged.outcome != outcome:
            raise ResponseRecorded(
                f"the response {logged.outcome!r} is recorded already", recorded=logged.outcome
            )
        return ResponseRead(
            decision_id=decision_id,
            action_id=action_id,
            outcome=logged.outcome,
            responded_at=logged.responded_at or now,
            learned=False,
        )
    answered = await learning.respond(session, decision_id, action_id, outcome, now)
    if answered is None:  # answered meanwhile by another request
        raise ResponseRecorded("the response was recorded meanwhile", recorded=None)
    if answered.opportunity_id is not None and outcome in CLOSES_OPPORTUNITY:
        # Closed meanwhile (expired, withdrawn): the response still teaches.
        with contextlib.suppress(OutcomeNotAllowed):
            await outcomes.record_outcome(
                session,
                answered.opportunity_id,
                outcome,
                f"offer: {outcome}",
                now=now,
                learn=False,  # learned above, from this decision
            )
    return ResponseRead(
        decision_id=decision_id,
        action_id=action_id,
        outcome=outcome,
        responded_at=now,
        learned=True,
    )


async def performance(
    session: AsyncSession,
    action_id: str,
    *,
    now: datetime,
    days: int,
    limit: int,
    catalogue_file: Path | None,
) -> ActionPerformance | None:
    if action_id not in catalogue(catalogue_file or CATALOGUE).actions:
        return None
    scored = await repository.responses(session, action_id, now - timedelta(days=days), limit)
    groups = health.deciles(scored)
    model = (await evidence(session, [action_id])).get(action_id)
    accepted = sum(1 for _, a in scored if a)
    return ActionPerformance(
        action_id=action_id,
        since=now - timedelta(days=days),
        responses=len(scored),
        accepted=accepted,
        acceptance=accepted / len(scored) if scored else None,
        mean_propensity=sum(p for p, _ in scored) / len(scored) if scored else None,
        auc=health.auc(scored),
        calibration_error=health.calibration_error(groups),
        deciles=[
            DecileRead(
                decile=g.decile,
                responses=g.responses,
                accepted=g.accepted,
                acceptance=g.acceptance,
                mean_propensity=g.mean_propensity,
            )
            for g in groups
        ],
        model_responses=model.responses if model else 0,
        active_predictors=active_predictors(model) if model else [],
        predictor_auc={p: predictor_auc(b) for p, b in sorted(model.bins.items())} if model else {},
    )
