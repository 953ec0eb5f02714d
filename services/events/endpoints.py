"""The events service's HTTP API under ``/v1``: rules, their stats and backtests, and the
opportunities with their outcomes."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from services.events import outcomes, rule_admin, statistics
from services.events.access import limit_to_reach, opportunity_in_reach
from services.events.backtest import backtest
from services.events.config import Settings
from services.events.errors import OpportunityNotFound, RuleNotFound, VersionNotFound
from services.events.metrics import DetectorMetrics
from services.events.models import Opportunity
from services.events.repository import opportunities as opportunities_repository
from services.events.repository import rules as rules_repository
from services.events.repository.opportunities import OpportunityFilter
from services.events.rules import RuleDefinition
from services.events.schemas import (
    BacktestReport,
    BacktestRequest,
    DraftBacktestRequest,
    OpportunityPage,
    OpportunityRead,
    OutcomeCreate,
    RuleCreate,
    RuleList,
    RuleRead,
    RuleStats,
    RuleVersionCreate,
    RuleVersionRead,
    VersionPromotion,
)
from services.events.service import RuleBook
from shared.auth.http import PrincipalDep
from shared.http import SessionDep, settings_dependency
from shared.idempotency import IdempotencyKey, answer_once
from shared.pagination import decode_cursor, encode_cursor
from shared.periods import Moment, period
from shared.problems import InvalidField, get_or_404
from shared.requests import INT_MAX

IN_REACH = Depends(opportunity_in_reach)
STATS_PERIOD = timedelta(days=30)
router = APIRouter(prefix="/v1")

RuleIdPath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{2,59}$")]


SettingsDep = Annotated[Settings, Depends(settings_dependency(Settings))]


def _rule_book(request: Request) -> RuleBook:
    book: RuleBook = request.app.state.rule_book
    return book


async def _rule_read(session: SessionDep, rule_id: str) -> RuleRead:
    rule = await get_or_404(
        rules_repository.rule(session, rule_id), RuleNotFound(f"no rule {rule_id!r}")
    )
    versions = await rules_repository.versions_of(session, rule_id)
    return RuleRead(
        rule_id=rule.rule_id,
        enabled=rule.enabled,
        updated_at=rule.updated_at,
        versions=[RuleVersionRead.model_validate(v, from_attributes=True) for v in versions],
    )


@router.get("/rules", tags=["rules"])
async def list_rules(session: SessionDep) -> RuleList:
    return RuleList(
        items=[
            await _rule_read(session, r.rule_id) for r in await rules_repository.all_rules(session)
        ]
    )


@router.post(
    "/rules",
    status_code=status.HTTP_201_CREATED,
    tags=["rules"],
    responses={409: {"description": "The rule id is taken"}, 422: {"description": "Not evaluable"}},
)
async def create_rule(body: RuleCreate, request: Request, session: SessionDep) -> RuleRead:
    """A new rule, as version 1: a draft, active, or in shadow (contacting nobody)."""
    await rule_admin.create_rule(
        session, body.rule_id, body.definition, body.status, now=datetime.now(UTC)
    )
    _rule_book(request).clear()
    return await _rule_read(session, body.rule_id)


@router.get("/rules/{rule_id}", tags=["rules"])
async def read_rule(rule_id: RuleIdPath, session: SessionDep) -> RuleRead:
    return await _rule_read(session, rule_id)


@router.put("/rules/{rule_id}", tags=["rules"])
async def change_rule(
    rule_id: RuleIdPath, body: RuleVersionCreate, request: Request, session: SessionDep
) -> RuleRead:
    """A change is a new version; ``status`` says whether it goes live, in shadow or stays a
    draft. Earlier versions are kept (opportunities name the version that raised them)."""
    await rule_admin.add_version(
        session, rule_id, body.definition, body.status, now=datetime.now(UTC)
    )
    _rule_book(request).clear()
    return await _rule_read(session, rule_id)


@router.post("/rules/{rule_id}/versions/{version}", tags=["rules"])
async def promote_version(
    rule_id: RuleIdPath,
    version: Annotated[int, Path(ge=1, le=INT_MAX)],
    body: VersionPromotion,
    request: Request,
    session: SessionDep,
) -> RuleRead:
    """Make a version active (say, a shadow that proved itself), shadow or draft."""
    await rule_admin.promote(session, rule_id, version, body.status, now=datetime.now(UTC))
    _rule_book(request).clear()
    return await _rule_read(session, rule_id)


@router.post("/rules/{rule_id}/enable", tags=["rules"])
async def enable_rule(rule_id: RuleIdPath, request: Request, session: SessionDep) -> RuleRead:
    return await _switch(rule_id, True, request, session)


@router.post("/rules/{rule_id}/disable", tags=["rules"])
async def disable_rule(rule_id: RuleIdPath, request: Request, session: SessionDep) -> RuleRead:
    """A disabled rule fires no version, active or shadow, until enabled again."""
    return await _switch(rule_id, False, request, session)


async def _switch(rule_id: str, enabled: bool, request: Request, session: SessionDep) -> RuleRead:
    await rule_admin.set_enabled(session, rule_id, enabled, now=datetime.now(UTC))
    _rule_book(request).clear()
    return await _rule_read(session, rule_id)


@router.get("/rules/{rule_id}/stats", tags=["rules"])
async def rule_stats(
    rule_id: RuleIdPath,
    session: SessionDep,
    settings: SettingsDep,
    start: Annotated[Moment | None, Query(alias="from")] = None,
    end: Annotated[Moment | None, Query(alias="to")] = None,
) -> RuleStats:
    """Fired and decided per version (active beside shadow), contacted, accepted, and the
    uplift in conversion against the control group; the last 30 days unless given."""
    await get_or_404(rules_repository.rule(session, rule_id), RuleNotFound(f"no rule {rule_id!r}"))
    since, until = period(
        start, end, zone=settings.bank_zone, now=datetime.now(UTC), default=STATS_PERIOD
    )
    return await statistics.rule_stats(session, rule_id, start=since, end=until)


@router.post("/rules/{rule_id}/backtest", tags=["rules"])
async def backtest_rule(
    rule_id: RuleIdPath, body: BacktestRequest, settings: SettingsDep, session: SessionDep
) -> BacktestReport:
    """Run a saved version (the active one unless ``version``), or an edited ``definition``,
    over the history kept for the period; nothing is emitted."""
    versions = await rules_repository.versions_of(session, rule_id)
    if not versions:
        raise RuleNotFound(f"no rule {rule_id!r}")
    if body.definition is not None:
        definition, version = body.definition, None
    else:
        chosen = [
            v
            for v in versions
            if (v.version == body.version if body.version else v.status == "active")
        ]
        if not chosen:
            raise VersionNotFound(f"rule {rule_id!r} has no such version", field="version")
        definition = RuleDefinition.model_validate(chosen[0].definition)
        version = chosen[0].version
    return await _backtest(
        session, body, rule_id=rule_id, version=version, definition=definition, settings=settings
    )


@router.post("/rules/backtest", tags=["rules"])
async def backtest_draft(
    body: DraftBacktestRequest, settings: SettingsDep, session: SessionDep
) -> BacktestReport:
    """A draft rule, not saved, over the kept history."""
    return await _backtest(
        session, body, rule_id="draft", version=None, definition=body.definition, settings=settings
    )


async def _backtest(
    session: SessionDep,
    body: BacktestRequest,
    *,
    rule_id: str,
    version: int | None,
    definition: RuleDefinition,
    settings: Settings,
) -> BacktestReport:
    rule_admin.check(definition)
    if definition.trigger.schedule:
        raise InvalidField(
            "definition.trigger", "a backtest replays events; run a scheduled rule in shadow"
        )
    start, end = period(
        body.received_from,
        body.received_to,
        zone=settings.bank_zone,
        now=datetime.now(UTC),
        default=STATS_PERIOD,
        where="body",
    )
    run = await backtest(
        session, rule_id, version, definition, start=start, end=end, settings=settings
    )
    return run.report


@router.get("/opportunities", tags=["opportunities"])
async def list_opportunities(
    session: SessionDep,
    principal: PrincipalDep,
    customer_id: uuid.UUID | None = None,
    owner: Literal["manager", "contact_center"] | None = None,
    owner_id: Annotated[str | None, Query(max_length=40)] = None,
    status_: Annotated[
        Literal["open", "in_contact", "accepted", "declined", "expired", "held_out"] | None,
        Query(alias="status"),
    ] = None,
    rule_id: Annotated[str | None, Query(max_length=60)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OpportunityPage:
    """Newest first. Held-out (control group) ones only when asked for by status. A customer
    manager sees only their own."""
    criteria = OpportunityFilter(
        customer_id=customer_id,
        owner=owner,
        owner_id=owner_id,
        status=status_,
        rule_id=rule_id,
        include_control_group=status_ == "held_out",
    )
    criteria = limit_to_reach(criteria, principal)
    after = decode_cursor(cursor) if cursor else None
    rows = await opportunities_repository.list_opportunities(
        session, criteria, after=after, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    return OpportunityPage(
        items=[_read(o) for o in page],
        next_cursor=encode_cursor(page[-1].created_at, page[-1].id) if more and page else None,
    )


def _read(opportunity: Opportunity) -> OpportunityRead:
    return OpportunityRead.model_validate(opportunity, from_attributes=True)


@router.get("/opportunities/{opportunity_id}", tags=["opportunities"], dependencies=[IN_REACH])
async def read_opportunity(opportunity_id: uuid.UUID, session: SessionDep) -> OpportunityRead:
    opportunity = await get_or_404(
        opportunities_repository.opportunity(session, opportunity_id),
        OpportunityNotFound(f"no opportunity {opportunity_id}"),
    )
    return _read(opportunity)


@router.post(
    "/opportunities/{opportunity_id}/outcome",
    tags=["opportunities"],
    dependencies=[IN_REACH],
    responses={409: {"description": "Not from the opportunity's status (``allowed``)"}},
)
async def record_outcome(
    opportunity_id: uuid.UUID,
    body: OutcomeCreate,
    request: Request,
    session: SessionDep,
    key: IdempotencyKey = None,
) -> Response:
    """The owner reached the customer (``in_contact``) or has the answer (``accepted``,
    ``declined``)."""

    async def record() -> tuple[OpportunityRead, dict[str, str]]:
        opportunity = await outcomes.record_outcome(
            session, opportunity_id, body.status, body.outcome, now=datetime.now(UTC)
        )
        metrics: DetectorMetrics = request.app.state.detector_metrics
        metrics.outcomes.labels(opportunity.rule_id, body.status).inc()
        return _read(opportunity), {}

    return await answer_once(
        session,
        key=key,
        scope=f"POST /v1/opportunities/{opportunity_id}/outcome",
        request_body=body,
        status_code=status.HTTP_200_OK,
        produce=record,
    )
