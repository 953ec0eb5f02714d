"""The events service's work: take in an event, keep the customer's state, run the rules;
tick the scheduled rules; expire what nobody acted on; record outcomes.

No HTTP and no Kafka here, and no commit: the caller owns the transaction."""

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import DomainEvent
from contracts.contact_center import OutboundAttempted
from contracts.opportunities import OpportunityClosed, OpportunityUpdated
from services.events.config import Settings
from services.events.detector import ContactHistory, LiveRule, decide
from services.events.errors import OpportunityNotFound, OutcomeNotAllowed
from services.events.evaluation import Moment, evaluate
from services.events.models import Opportunity
from services.events.repository import opportunities as opportunities_repository
from services.events.repository import rules as rules_repository
from services.events.repository import states as states_repository
from services.events.rules import (
    BirthdayWithin,
    DaysSinceActivity,
    MaturityWithin,
    RuleDefinition,
)
from services.events.state import MAX_WINDOW_DAYS, apply_event
from services.events.state_cache import StateCache
from shared.envelope import EventEnvelope
from shared.logging import correlated
from shared.outbox import record_event, record_events

SCHEDULE_CHUNK = 500

# The moment an event happened, by the field that says so; otherwise the envelope's time.
_TIME_FIELDS = (
    "booked_at", "occurred_at", "received_at", "effective_at", "closed_at", "erased_at",
)  # fmt: skip
# What identified an erased customer in the consumed events the history keeps for backtests:
# the keyed digests of their identifiers (a caller's number matches them) and their birthday.
IDENTIFYING_FIELDS: dict[str, dict[str, Any]] = {
    "customer.registered": {"identifiers": [], "birth_month_day": None},
    "customer.updated": {"identifiers": []},
}
ERASED_OUTCOME = "customer erased"


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
                for v in await rules_repository.live_versions(session)
            ]
            # A shadow version is judged before its active one, so that what it would have
            # done is not hidden by what the active one has just done with the same facts.
            self.rules = sorted(rules, key=lambda r: (r.rule_id, r.status != "shadow"))
            self.loaded_at = time.monotonic()
        return self.rules


@dataclass(frozen=True)
class Handled:
    firings: list[tuple[str, str, str]]  # (rule id, mode, decision)
    states_kept: int = 0  # customers' states reused from memory
    states_read: int = 0  # and read from the tables

    @property
    def decisions(self) -> list[str]:
        return [decision for _, _, decision in self.firings]


async def handle_events(
    session: AsyncSession,
    items: Sequence[tuple[DomainEvent, EventEnvelope]],
    *,
    rules: Sequence[LiveRule],
    settings: Settings,
    cache: StateCache | None = None,
) -> Handled:
    """A run of events, in their order, in the caller's transaction: the customers' states
    are read (or taken from ``cache``) and written once for the whole run, and each event is
    judged on the state as it stood right after that event."""
    mine = [(e, env) for e, env in items if getattr(e, "customer_id", None) is not None]
    if not mine:
        return Handled([])  # complaints from people who are not customers
    prepared = []
    for event, envelope in mine:
        fields = event.model_dump()
        at = occurred_at(fields, envelope)
        prepared.append((event, envelope, fields, at, business_day(at, settings)))
    customers = list({e.customer_id for e, *_ in prepared})  # type: ignore[attr-defined]
    await states_repository.lock_customers(session, customers)
    since = min(day for *_, day in prepared) - timedelta(days=MAX_WINDOW_DAYS)
    loaded = await states_repository.load_states(session, customers, since=since, cache=cache)
    states = loaded.states
    observed = [_observed(e, env, at) for e, env, _, at, _ in prepared]
    changes = states_repository.Changes()
    history = ContactHistory(session)
    firings: list[tuple[str, str, str]] = []
    recorded: list[dict[str, Any]] = []
    for event, envelope, fields, at, day in prepared:
        customer_id: uuid.UUID = event.customer_id  # type: ignore[attr-defined]
        name = event_name_of(envelope.type)
        state = states[customer_id]
        applied = apply_event(state, name, fields, at=at, day=day)
        changes.note(customer_id, applied)
        if name == "account.opened":
            since_offer = at - timedelta(days=settings.conversion_days)
            await opportunities_repository.mark_converted(session, customer_id, at, since_offer)
        elif name == "customer.erased":
            await forget_customer(session, customer_id, now=at, unsaved_history=observed)
        moment = Moment(at=at, day=day, event_name=name, fields=fields, event_id=envelope.id,
                        applied=applied)  # fmt: skip
        topic, partition, offset = envelope.position or (None, None, None)
        lineage = [{"id": envelope.id, "type": envelope.type, "topic": topic,
                    "partition": partition, "offset": offset}]  # fmt: skip
        with correlated(envelope.correlation_id):
            for live in rules:
                if not live.listens_to(name):
                    continue
                for match in evaluate(live.rule_id, live.definition, state, moment):
                    decision = await decide(
                        session, history, live, match, state, moment, settings,
                        lineage_events=lineage, firings=recorded,
                    )  # fmt: skip
                    firings.append((live.rule_id, live.status, decision))
    version = await states_repository.save_run(
        session, states, changes, observed=observed, firings=recorded
    )
    if cache is not None:
        # Before the commit: if it fails, the stored version is not this one, and the next
        # run reads the states again.
        cache.keep(states, version, since)
    return Handled(firings, states_kept=loaded.kept, states_read=loaded.read)


def _observed(event: DomainEvent, envelope: EventEnvelope, at: datetime) -> dict[str, Any]:
    topic, partition, offset = envelope.position or (None, None, None)
    return {
        "event_id": envelope.id, "customer_id": event.customer_id,  # type: ignore[attr-defined]
        "event_name": event_name_of(envelope.type), "occurred_at": at, "topic": topic,
        "partition": partition, "offset": offset, "payload": event.model_dump_json(),
    }  # fmt: skip


async def run_scheduled_rules(
    session: AsyncSession, *, rules: Sequence[LiveRule], settings: Settings, now: datetime
) -> int:
    """Tick the time-based rules (birthdays, maturities, dormancy) for their candidates."""
    today = business_day(now, settings)
    moment = Moment(at=now, day=today)
    lineage = [{"schedule_at": now.isoformat()}]
    history = ContactHistory(session)
    recorded: list[dict[str, Any]] = []
    fired = 0
    for live in rules:
        if not live.listens_to(None):
            continue
        candidates = await _candidates(session, live.definition, today, now)
        # States read a chunk at a time, as the consumer reads a run's: a few queries per
        # chunk, not per customer.
        for start in range(0, len(candidates), SCHEDULE_CHUNK):
            chunk = sorted(candidates[start : start + SCHEDULE_CHUNK])
            await states_repository.lock_customers(session, chunk)
            loaded = await states_repository.load_states(
                session, chunk, since=today - timedelta(days=MAX_WINDOW_DAYS)
            )
            states = loaded.states
            for customer_id in chunk:
                state = states[customer_id]
                for match in evaluate(live.rule_id, live.definition, state, moment):
                    decision = await decide(
                        session, history, live, match, state, moment, settings,
                        lineage_events=lineage, firings=recorded,
                    )  # fmt: skip
                    fired += decision in ("created", "held_out")
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


async def expire_opportunities(
    session: AsyncSession, *, now: datetime, limit: int = 500
) -> list[str]:
    """Close what nobody acted on in time; returns the rule id of each one expired."""
    expired = await opportunities_repository.due_to_expire(session, now, limit)
    await _close_as_expired(session, expired, outcome=None, now=now)
    return [o.rule_id for o in expired]


async def _close_as_expired(
    session: AsyncSession, opportunities: Sequence[Opportunity], *, outcome: str | None,
    now: datetime,
) -> None:  # fmt: skip
    for opportunity in opportunities:
        opportunity.status, opportunity.updated_at = "expired", now
        if outcome is not None:  # expiry by time leaves any outcome noted on contact
            opportunity.outcome = outcome
    await record_events(
        session,
        [
            OpportunityClosed(
                opportunity_id=o.id, customer_id=o.customer_id, status="expired",
                outcome=outcome, closed_at=now,
            )
            for o in opportunities
        ],
    )  # fmt: skip


async def forget_customer(
    session: AsyncSession, customer_id: uuid.UUID, *, now: datetime,
    unsaved_history: Sequence[dict[str, Any]] = (),
) -> None:  # fmt: skip
    """An erased customer (their state already forgot who they are): what was offered them
    and is still open closes as expired, nobody may act on it now, and the kept history loses
    what identified them, both the stored rows and the run's ``unsaved_history`` (written at
    the run's end). Opportunities and firings stay: they are what the bank did."""
    closing = await opportunities_repository.open_of_customer(session, customer_id)
    await _close_as_expired(session, closing, outcome=ERASED_OUTCOME, now=now)
    for event_name, fields in IDENTIFYING_FIELDS.items():
        await states_repository.overwrite_observed_fields(session, customer_id, event_name, fields)
    for row in unsaved_history:
        blanks = IDENTIFYING_FIELDS.get(row["event_name"])
        if blanks is not None and row["customer_id"] == customer_id:
            row["payload"] = json.dumps({**json.loads(row["payload"]), **blanks})


# What a call's result makes of an opportunity (no answer and a wrong number change nothing:
# the call list tries again, or gives up, and expiry follows).
CALL_RESULT_STATUS = {"reached": "in_contact", "accepted": "accepted", "declined": "declined"}


async def record_call_results(
    session: AsyncSession, attempts: Sequence[OutboundAttempted], *, now: datetime
) -> list[tuple[str, str]]:
    """Outcomes the contact centre reports; returns (rule id, status) of each one applied.
    An event cannot be refused: a result that does not fit the opportunity any more (it was
    accepted at the branch meanwhile, say) is left out, not an error."""
    applied = []
    for attempt in attempts:
        status = CALL_RESULT_STATUS.get(attempt.result)
        if attempt.opportunity_id is None or status is None:
            continue
        opportunity = await opportunities_repository.opportunity(
            session, attempt.opportunity_id, for_update=True
        )
        if opportunity is None or status not in OUTCOMES.get(opportunity.status, ()):
            continue
        await _set_outcome(session, opportunity, status, f"call: {attempt.result}", now=now)
        applied.append((opportunity.rule_id, status))
    return applied


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
    opportunity = await opportunities_repository.opportunity(
        session, opportunity_id, for_update=True
    )
    if opportunity is None:
        raise OpportunityNotFound(f"no opportunity {opportunity_id}")
    allowed = OUTCOMES.get(opportunity.status, ())
    if status not in allowed:
        raise OutcomeNotAllowed(
            f"an opportunity that is {opportunity.status} cannot become {status}",
            current_status=opportunity.status, allowed=list(allowed),
        )  # fmt: skip
    await _set_outcome(session, opportunity, status, outcome, now=now)
    return opportunity


async def _set_outcome(
    session: AsyncSession,
    opportunity: Opportunity,
    status: str,
    outcome: str | None,
    *,
    now: datetime,
) -> None:
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
