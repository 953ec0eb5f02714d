"""Backtests: a rule run over the history the service kept, emitting nothing.

The history is replayed through the same state and evaluation code as the live consumer, in
memory, from a warm-up year before the period (so the windows are full on its first day).
Suppression is simulated from the same state: duplicates, the rule's cool-down, open
complaints, consent and the control group; the contact-fatigue cap counts only this rule's
own contacts, because other rules' decisions over the period are not replayed with it."""

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.events.config import Settings
from services.events.detector import ContactHistory, in_control_group, suppression
from services.events.errors import BacktestTooLarge
from services.events.evaluation import Moment, evaluate
from services.events.models import ObservedEvent
from services.events.repository import states as states_repository
from services.events.rules import CONSUMED_EVENTS, RuleDefinition
from services.events.schemas import BacktestReport
from services.events.service import business_day
from services.events.state import MAX_WINDOW_DAYS, CustomerState, apply_event

EXAMPLES = 10


async def backtest(
    session: AsyncSession,
    rule_id: str,
    version: int | None,
    rule: RuleDefinition,
    *,
    start: datetime,
    end: datetime,
    settings: Settings,
) -> BacktestReport:
    warm_up = start - timedelta(days=MAX_WINDOW_DAYS)
    total = await session.scalar(
        select(func.count()).where(
            ObservedEvent.occurred_at >= warm_up, ObservedEvent.occurred_at < end
        )
    )
    if (total or 0) > settings.backtest_max_events:
        raise BacktestTooLarge(
            f"{total} events in the period and its warm-up year; the limit is "
            f"{settings.backtest_max_events}: choose a shorter period",
            field="to",
        )
    states: dict[uuid.UUID, CustomerState] = {}
    decided = ContactHistory()  # only this backtest's own decisions
    suppressed: Counter[str] = Counter()
    customers: set[uuid.UUID] = set()
    examples: list[dict[str, Any]] = []
    scanned = matches = opened = held_out = 0
    async for observed in states_repository.history(session, warm_up, end):
        model = CONSUMED_EVENTS.get(observed.event_name)
        if model is None:
            continue
        fields = model.model_validate(observed.payload).model_dump()
        state = states.setdefault(observed.customer_id, CustomerState(str(observed.customer_id)))
        day = business_day(observed.occurred_at, settings)
        applied = apply_event(state, observed.event_name, fields, at=observed.occurred_at, day=day)
        if observed.occurred_at < start or observed.event_name not in rule.trigger.events:
            continue
        scanned += 1
        moment = Moment(at=observed.occurred_at, day=day, event_name=observed.event_name,
                        fields=fields, event_id=observed.event_id, applied=applied)  # fmt: skip
        for match in evaluate(rule_id, rule, state, moment):
            matches += 1
            reason, _ = await suppression(decided, rule_id, rule, match, state, moment.at, settings)
            if reason:
                suppressed[reason] += 1
                continue
            customers.add(observed.customer_id)
            control = in_control_group(rule_id, state.customer_id, float(rule.holdout_share))
            await decided.record(
                observed.customer_id, rule_id, match.dedupe_key, moment.at,
                contacted=not control and rule.action.kind.is_marketing,
            )  # fmt: skip
            if control:
                held_out += 1
                continue
            opened += 1
            if len(examples) < EXAMPLES:
                examples.append({"customer_id": state.customer_id,
                                 "at": moment.at.isoformat(), "facts": match.facts})  # fmt: skip
    return BacktestReport(
        rule_id=rule_id, version=version, period_from=start, period_to=end,
        events_scanned=scanned, matches=matches, customers=len(customers),
        opportunities=opened, held_out=held_out, suppressed=dict(suppressed),
        examples=examples,
    )  # fmt: skip
