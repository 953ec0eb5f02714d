"""The time-based rules (birthdays, maturities, dormancy), ticked by the detector's clock for
the customers each one may concern.

No HTTP and no Kafka here, and no commit: the scheduler's job owns the transaction."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.events.config import Settings
from services.events.detector import ContactHistory, LiveRule, judge
from services.events.evaluation import Moment
from services.events.next_best.ranking import decision_order
from services.events.repository import opportunities as opportunities_repository
from services.events.repository import states as states_repository
from services.events.rules import (
    BirthdayWithin,
    DaysSinceActivity,
    MaturityWithin,
    RuleDefinition,
)
from services.events.service import business_day
from services.events.state import MAX_WINDOW_DAYS

SCHEDULE_CHUNK = 500


async def run_scheduled_rules(
    session: AsyncSession, *, rules: Sequence[LiveRule], settings: Settings, now: datetime
) -> int:
    """Tick the time-based rules (birthdays, maturities, dormancy) for their candidates.

    Every rule's candidates are gathered first and locked in one ascending order of lock keys,
    a chunk at a time: the consumer locks a run's customers in that order too, so the two can
    never hold what the other waits for (locking each rule's candidates in turn did, and
    deadlocked against the consumer during a seed)."""
    today = business_day(now, settings)
    moment = Moment(at=now, day=today)
    lineage = [{"schedule_at": now.isoformat()}]
    history = ContactHistory(session)
    recorded: list[dict[str, Any]] = []
    scheduled = sorted(
        (live for live in rules if live.listens_to(None)),
        key=lambda live: decision_order(live, settings.action_weights),
    )
    candidates = [
        set(await _candidates(session, live.definition, today, now)) for live in scheduled
    ]
    everyone = sorted(set().union(*candidates), key=states_repository.lock_key)
    fired = 0
    # States read a chunk at a time, as the consumer reads a run's: a few queries per chunk.
    for start in range(0, len(everyone), SCHEDULE_CHUNK):
        chunk = everyone[start : start + SCHEDULE_CHUNK]
        await states_repository.lock_customers(session, chunk)
        loaded = await states_repository.load_states(
            session, chunk, since=today - timedelta(days=MAX_WINDOW_DAYS)
        )
        for customer_id in chunk:
            for live, theirs in zip(scheduled, candidates, strict=True):
                if customer_id not in theirs:
                    continue
                decisions = await judge(
                    session,
                    live,
                    loaded.states[customer_id],
                    moment,
                    history=history,
                    settings=settings,
                    lineage_events=lineage,
                    firings=recorded,
                )
                fired += sum(d in ("created", "held_out") for d in decisions)
    await opportunities_repository.record_firings(session, recorded)
    return fired


async def _candidates(
    session: AsyncSession, rule: RuleDefinition, today: date, now: datetime
) -> list[uuid.UUID]:
    for condition in rule.conditions:
        match condition:
            case BirthdayWithin(days=days):
                month_days = [
                    (today + timedelta(days=n)).strftime("%m-%d") for n in range(days + 1)
                ]
                return await states_repository.birthday_customers(session, month_days)
            case MaturityWithin(days=days, product_type=product_type):
                last = today + timedelta(days=days)
                return await states_repository.maturing_customers(
                    session, today, last, product_type
                )
            case DaysSinceActivity(days=days):
                return await states_repository.idle_customers(session, now - timedelta(days=days))
    return []
