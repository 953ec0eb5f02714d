"""The events service's work: take in an event, keep the customer's state, run the rules;
tick the scheduled rules; expire what nobody acted on; record outcomes.

No HTTP and no Kafka here, and no commit: the caller owns the transaction."""

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.events import repository
from services.events.config import Settings
from services.events.detector import LiveRule, decide
from services.events.errors import OpportunityNotFound, OutcomeNotAllowed
from services.events.evaluation import Moment, evaluate
from services.events.events import OpportunityClosed, OpportunityUpdated
from services.events.models import Opportunity
from services.events.repository import opportunities as store
from services.events.repository import rules as rule_store
from services.events.rules import (
    BirthdayWithin,
    DaysSinceActivity,
    MaturityWithin,
    RuleDefinition,
)
from services.events.state import MAX_WINDOW_DAYS, apply_event
from shared.envelope import EventEnvelope
from shared.events import DomainEvent
from shared.outbox import record_event, record_events

# The moment an event happened, by the field that says so; otherwise the envelope's time.
_TIME_FIELDS = ("booked_at", "occurred_at", "received_at", "effective_at", "closed_at")


def event_name_of(event_type: str) -> str:
    """``crm.transaction.posted.v1`` → ``transaction.posted``."""
    return ".".join(event_type.split(".")[1:-1])


def occurred_at(fields: dict[str, Any], envelope: EventEnvelope) -> datetime:
    for name in _TIME_FIELDS:
        value = fields.get(name)
        if isinstance(value, datetime):
            return value
    return envelope.time


def business_day(at: datetime, settings: Settings) -> date:
    return at.astimezone(ZoneInfo(settings.timezone)).date()


@dataclass
class RuleBook:
    """The live rule versions, cached per process; rule changes here clear it, and other
    replicas' changes arrive within ``rule_cache_seconds``."""

    rules: list[LiveRule] = field(default_factory=list)
    loaded_at: float = float("-inf")

    def clear(self) -> None:
        self.loaded_at = float("-inf")

    async def live(self, session: AsyncSession, settings: Settings) -> list[LiveRule]:
        if time.monotonic() - self.loaded_at > settings.rule_cache_seconds:
            rules = [
                LiveRule(
                    v.rule_id, v.version, v.status, RuleDefinition.model_validate(v.definition)
                )
                for v in await rule_store.live_versions(session)
            ]
            # A shadow version is judged before its active one, so that what it would have
            # done is not hidden by what the active one has just done with the same facts.
            self.rules = sorted(rules, key=lambda r: (r.rule_id, r.status != "shadow"))
            self.loaded_at = time.monotonic()
        return self.rules


@dataclass(frozen=True)
class Handled:
    decisions: list[str]


async def handle_event(
    session: AsyncSession,
    event: DomainEvent,
    envelope: EventEnvelope,
    *,
    rules: Sequence[LiveRule],
    settings: Settings,
) -> Handled:
    customer_id: uuid.UUID | None = getattr(event, "customer_id", None)
    if customer_id is None:
        return Handled([])  # a complaint from someone who is not a customer
    name = event_name_of(envelope.type)
    fields = event.model_dump()
    at = occurred_at(fields, envelope)
    day = business_day(at, settings)
    topic, partition, offset = envelope.position or (None, None, None)
    await repository.observe(
        session,
        {"event_id": envelope.id, "customer_id": customer_id, "event_name": name,
         "occurred_at": at, "topic": topic, "partition": partition, "offset": offset,
         "payload": event.model_dump(mode="json")},
    )  # fmt: skip
    await repository.lock_customer(session, customer_id)
    state = await repository.load_state(
        session, customer_id, since=day - timedelta(days=MAX_WINDOW_DAYS)
    )
    applied = apply_event(state, name, fields, at, day)
    await repository.save_state(session, state, applied)
    if name == "account.opened":
        since = at - timedelta(days=settings.conversion_days)
        await store.mark_converted(session, customer_id, at, since)
    moment = Moment(at=at, day=day, event_name=name, fields=fields, event_id=envelope.id,
                    applied=applied)  # fmt: skip
    lineage = [{"id": envelope.id, "type": envelope.type, "topic": topic,
                "partition": partition, "offset": offset}]  # fmt: skip
    decisions = []
    for live in rules:
        if not live.listens_to(name):
            continue
        for match in evaluate(live.rule_id, live.definition, state, moment):
            decisions.append(
                await decide(session, live, match, state, moment, settings,
                             lineage_events=lineage)
            )  # fmt: skip
    return Handled(decisions)


async def run_scheduled_rules(
    session: AsyncSession, *, rules: Sequence[LiveRule], settings: Settings, now: datetime
) -> int:
    """Tick the time-based rules (birthdays, maturities, dormancy) for their candidates."""
    today = business_day(now, settings)
    fired = 0
    for live in rules:
        if not live.listens_to(None):
            continue
        for customer_id in await _candidates(session, live.definition, today, now):
            await repository.lock_customer(session, customer_id)
            state = await repository.load_state(
                session, customer_id, since=today - timedelta(days=MAX_WINDOW_DAYS)
            )
            moment = Moment(at=now, day=today)
            for match in evaluate(live.rule_id, live.definition, state, moment):
                lineage = [{"schedule_at": now.isoformat()}]
                decision = await decide(
                    session, live, match, state, moment, settings, lineage_events=lineage
                )
                fired += decision in ("created", "held_out")
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
                return await repository.birthday_customers(session, month_days)
            case MaturityWithin(days=days, product_type=product_type):
                last = today + timedelta(days=days)
                return await repository.maturing_customers(session, today, last, product_type)
            case DaysSinceActivity(days=days):
                return await repository.idle_customers(session, now - timedelta(days=days))
    return []


async def expire_opportunities(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    expired = await store.due_to_expire(session, now, limit)
    for opportunity in expired:
        opportunity.status, opportunity.updated_at = "expired", now
    await record_events(
        session,
        [
            OpportunityClosed(
                opportunity_id=o.id, customer_id=o.customer_id, status="expired",
                outcome=None, closed_at=now,
            )
            for o in expired
        ],
    )  # fmt: skip
    return len(expired)


# What an owner may record, from each status.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "open": ("in_contact", "accepted", "declined"),
    "in_contact": ("accepted", "declined"),
}
FINAL = frozenset({"accepted", "declined"})


async def record_outcome(
    session: AsyncSession,
    opportunity_id: uuid.UUID,
    status: str,
    outcome: str | None,
    *,
    now: datetime,
) -> Opportunity:
    opportunity = await store.opportunity(session, opportunity_id, for_update=True)
    if opportunity is None:
        raise OpportunityNotFound(f"no opportunity {opportunity_id}")
    allowed = OUTCOMES.get(opportunity.status, ())
    if status not in allowed:
        raise OutcomeNotAllowed(
            f"an opportunity that is {opportunity.status} cannot become {status}",
            current_status=opportunity.status, allowed=list(allowed),
        )  # fmt: skip
    opportunity.status, opportunity.outcome, opportunity.updated_at = status, outcome, now
    if status in FINAL:
        await record_event(
            session,
            OpportunityClosed(
                opportunity_id=opportunity.id, customer_id=opportunity.customer_id,
                status=status, outcome=outcome, closed_at=now,
            ),
        )  # fmt: skip
    else:
        await record_event(
            session,
            OpportunityUpdated(
                opportunity_id=opportunity.id, customer_id=opportunity.customer_id,
                status=status, outcome=outcome, updated_at=now,
            ),
        )  # fmt: skip
    return opportunity
