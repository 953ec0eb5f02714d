"""``GET /v1/customers/{id}/next-best-actions``: one ranked answer per customer."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.events.access import own_opportunities
from services.events.endpoints import SettingsDep
from services.events.errors import CustomerNotKnown
from services.events.metrics import DetectorMetrics
from services.events.next_best import service
from services.events.next_best.catalogue import OfferChannel
from services.events.next_best.schemas import (
    ActionFactors,
    ModelEvidence,
    NextBestAction,
    NextBestActions,
    WithheldAction,
)
from services.events.next_best.service import Decision
from shared.auth.http import PrincipalDep
from shared.http import KeepingReadSessionDep

router = APIRouter(prefix="/v1")


@router.get("/customers/{customer_id}/next-best-actions", tags=["opportunities"])
async def next_best_actions(
    customer_id: uuid.UUID,
    request: Request,
    session: KeepingReadSessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    channel: Annotated[OfferChannel | None, Query(description="Where it is to be offered.")] = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 3,
) -> NextBestActions:
    """What to offer the customer now, best first, each with the factors of its rank; what
    may not be offered (suppressed, no consent, an open complaint, the contact cap) is listed
    apart with its reason. A customer manager reaches only their own customers. The decision
    served is kept in one transaction."""
    decision = await service.next_best_actions(
        session,
        customer_id,
        channel=channel,
        settings=settings,
        now=datetime.now(UTC),
        manager_id=own_opportunities(principal),
    )
    if decision is None:
        raise CustomerNotKnown(f"no customer {customer_id} known to the detector")
    metrics: DetectorMetrics = request.app.state.detector_metrics
    metrics.rankings.labels(str(decision.explored).lower()).inc()
    return _answer(customer_id, channel, decision, limit)


def _answer(
    customer_id: uuid.UUID, channel: str | None, decision: Decision, limit: int
) -> NextBestActions:
    arbitration = decision.arbitration
    items = [
        NextBestAction(
            rank=n,
            action_id=r.action_id,
            name=r.action.name,
            kind=r.action.kind.value,
            product=r.action.product,
            source="always_on" if r.opportunity is None else "opportunity",
            opportunity_id=r.opportunity.opportunity_id if r.opportunity else None,
            rule_id=r.opportunity.rule_id if r.opportunity else None,
            channels=list(r.action.channels),
            factors=ActionFactors.model_validate(r.factors),
            model=ModelEvidence(
                estimate=round(decision.scores[r.action_id].model.mean, 8),
                responses=decision.scores[r.action_id].responses,
                predictors={
                    p: round(v, 4)
                    for p, v in decision.scores[r.action_id].model.contributions.items()
                },
                first_choice_probability=float(decision.first_choice[r.action_id]),
            ),
        )
        for n, r in enumerate(arbitration.ranked[:limit], start=1)
    ]
    withheld = [
        WithheldAction.model_validate(
            {
                "action_id": w.action_id,
                "opportunity_id": w.opportunity.opportunity_id if w.opportunity else None,
                "reason": w.reason,
            }
        )
        for w in arbitration.withheld
    ]
    return NextBestActions(
        decision_id=decision.decision_id,
        explored=decision.explored,
        customer_id=customer_id,
        channel=channel,
        items=items,
        withheld=withheld,
    )
