"""``POST /v1/decisions/{id}/responses`` and ``GET /v1/actions/{id}/performance``."""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from services.events.access import own_opportunities
from services.events.decisions import service, strategy_evaluation
from services.events.decisions.schemas import (
    ActionPerformance,
    ResponseCreate,
    ResponseRead,
    StrategyCandidate,
    StrategyEvaluation,
)
from services.events.endpoints import SettingsDep
from services.events.metrics import DetectorMetrics
from services.events.next_best.catalogue import CATALOGUE, catalogue
from shared.auth.http import PrincipalDep
from shared.http import SessionDep
from shared.problems import InvalidField, NotFound

router = APIRouter(prefix="/v1")
ActionIdPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,59}$")]


class ActionNotFound(NotFound):
    slug = "action-not-found"


@router.post(
    "/decisions/{decision_id}/responses",
    tags=["opportunities"],
    responses={409: {"description": "Another response is recorded for this offer"}},
)
async def record_response(
    decision_id: uuid.UUID,
    body: ResponseCreate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> ResponseRead:
    """The customer's answer to an action a ranking served: the action's model learns from it,
    with the customer as the decision saw them. An offer of an open opportunity accepted or
    declined closes the opportunity too. Sent again, the same response changes nothing."""
    answer = await service.record_response(
        session,
        decision_id,
        body.action_id,
        body.outcome,
        now=datetime.now(UTC),
        manager_id=own_opportunities(principal),
    )
    if answer.learned:
        metrics: DetectorMetrics = request.app.state.detector_metrics
        metrics.responses.labels(body.action_id, body.outcome).inc()
    return answer


@router.get("/actions/{action_id}/performance", tags=["analytics"])
async def action_performance(
    action_id: ActionIdPath,
    session: SessionDep,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=730, description="The responses of these days.")] = 90,
    limit: Annotated[int, Query(ge=10, le=200_000)] = 50_000,
) -> ActionPerformance:
    """The action's model health: responses counted, acceptance by propensity decile, AUC and
    calibration, and which predictors the model uses."""
    answer = await service.performance(
        session,
        action_id,
        now=datetime.now(UTC),
        days=days,
        limit=limit,
        catalogue_file=settings.action_catalogue,
    )
    if answer is None:
        raise ActionNotFound(f"no action {action_id!r} in the catalogue")
    return answer


@router.post("/next-best-actions/evaluations", tags=["rules"])
async def evaluate_strategy(
    body: StrategyCandidate, session: SessionDep, settings: SettingsDep
) -> StrategyEvaluation:
    """What a candidate strategy's acceptance rate would have been on the logged rankings
    (IPS, SNIPS and doubly robust estimates with 95% bootstrap intervals), beside the rate
    served: judge new business weights before switching them on (docs/next-best-action.md)."""
    actions = catalogue(settings.action_catalogue or CATALOGUE)
    unknown = sorted(set(body.weights) - set(actions.actions))
    if unknown:
        raise InvalidField(f"weights.{unknown[0]}", f"no action {unknown[0]!r} in the catalogue")
    return await strategy_evaluation.evaluate(
        session,
        actions,
        body.weights,
        now=datetime.now(UTC),
        days=body.days,
        limit=body.limit,
        resamples=body.resamples,
    )
