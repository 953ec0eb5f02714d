"""The events service's work on what it consumes: take in a run of events, keep the
customers' states, run the live rules on each event. The scheduled rules, the outcomes and
an erasure's forgetting each have their own module.

No HTTP and no Kafka here, and no commit: the caller owns the transaction."""

import copy
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.base import DomainEvent
from contracts.complaints import ComplaintReceived
from contracts.customer import TransactionReversed
from services.events import outcomes
from services.events.config import Settings
from services.events.detector import (
    Candidate,
    ContactHistory,
    LiveRule,
    decide,
    recent_conversations,
)
from services.events.erasure import forget_customer
from services.events.evaluation import Moment, evaluate
from services.events.next_best.learned import learned_rates
from services.events.next_best.ranking import decision_order
from services.events.repository import opportunities as opportunities_repository
from services.events.repository import rules as rules_repository
from services.events.repository import states as states_repository
from services.events.rules import RuleDefinition
from services.events.state import MAX_WINDOW_DAYS, Applied, CustomerState, apply_event
from services.events.state_cache import StateCache
from shared.envelope import EventEnvelope
from shared.logging import correlated

# The moment an event happened, by the field that says so; otherwise the envelope's time.
_TIME_FIELDS = ("booked_at", "occurred_at", "received_at", "effective_at", "closed_at", "erased_at")


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


def folded_fields(event: DomainEvent, settings: Settings) -> dict[str, Any]:
    """The event's fields as the state folds them: a reversal also names the business day of
    the posting it reverses, whose figures it corrects."""
    fields = event.model_dump()
    reversed_at = fields.get("reversed_booked_at")
    if isinstance(reversed_at, datetime):
        fields["reversed_day"] = business_day(reversed_at, settings)
    return fields


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
            rules = await learned_rates(session, rules, settings)
            self.rules = sorted(rules, key=lambda r: decision_order(r, settings.action_weights))
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


@dataclass(frozen=True)
class Arrival:
    """One consumed event of a run, with the moment it happened and its business day."""

    event: DomainEvent
    envelope: EventEnvelope
    name: str  # the catalogue name without prefix and version: ``transaction.posted``
    customer_id: uuid.UUID
    fields: dict[str, Any]
    at: datetime
    day: date

    def moment(self, applied: Applied) -> Moment:
        """The moment the rules judge: this event, on the state right after it."""
        return Moment(
            at=self.at,
            day=self.day,
            event_name=self.name,
            fields=self.fields,
            event_id=self.envelope.id,
            applied=applied,
        )

    def lineage(self) -> list[dict[str, Any]]:
        """Where the event came from, for the lineage of what it opens."""
        topic, partition, offset = self.envelope.position or (None, None, None)
        source: dict[str, Any] = {
            "id": self.envelope.id,
            "type": self.envelope.type,
            "topic": topic,
            "partition": partition,
            "offset": offset,
        }
        # A bank transaction's id: its reversal withdraws what it raised (outcomes).
        if "transaction_id" in self.fields:
            source["transaction_id"] = self.fields["transaction_id"]
        return [source]


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
    arrivals = arrivals_of(items, settings)
    if not arrivals:
        return Handled([])
    customers = list({a.customer_id for a in arrivals})
    await states_repository.lock_customers(session, customers)
    since = min(a.day for a in arrivals) - timedelta(days=MAX_WINDOW_DAYS)
    loaded = await states_repository.load_states(session, customers, since=since, cache=cache)
    states = loaded.states
    observed = [observed_row(a.event, a.envelope, a.at) for a in arrivals]
    changes = states_repository.Changes()
    matched = _Matched(ContactHistory(session))
    listening: dict[str, list[LiveRule]] = {}
    for arrival in arrivals:
        state = states[arrival.customer_id]
        applied = apply_event(state, arrival.name, arrival.fields, at=arrival.at, day=arrival.day)
        changes.note(arrival.customer_id, applied)
        if arrival.name in _FOLLOWED_UP:
            # What it does (a conversion, an erasure) follows the decisions before it.
            await matched.decide(session, settings)
            await _follow_up(session, arrival, settings=settings, unsaved_history=observed)
        if arrival.name not in listening:
            # In the order an event's matches are decided, competing for its customer's slots.
            listening[arrival.name] = sorted(
                (r for r in rules if r.listens_to(arrival.name)),
                key=lambda r: decision_order(r, settings.action_weights),
            )
        moment: Moment | None = None
        snapshot: CustomerState | None = None
        talks: int | None = None
        for live in listening[arrival.name]:
            if not live.screen(arrival.fields):
                continue
            moment = moment or arrival.moment(applied)
            matches = evaluate(live.rule_id, live.definition, state, moment)
            if matches:
                # The state as it stands now, for the decision taken later in the run (the
                # profile's fields are replaced, never changed in place, by later events).
                snapshot = snapshot or copy.copy(state)
                if talks is None:  # once an event, as the snapshot
                    talks = recent_conversations(state, arrival.day, settings)
                matched.add(arrival, [Candidate(live, m, snapshot, moment, talks) for m in matches])
    await matched.decide(session, settings)
    version = await states_repository.save_run(
        session, states, changes, observed=observed, firings=matched.recorded
    )
    if cache is not None:
        # Before the commit: if it fails, the stored version is not this one, and the next
        # run reads the states again.
        cache.keep(states, version, since)
    return Handled(matched.firings, states_kept=loaded.kept, states_read=loaded.read)


# Events that do more than change the state, in the database, where later decisions see it.
_FOLLOWED_UP = frozenset(
    {"account.opened", "customer.erased", "transaction.reversed", "complaint.received"}
)


@dataclass
class _Matched:
    """A run's matches, decided together in their order: evaluating the rules needs no
    decision taken before, and deciding needs the customers' earlier opportunities, which
    are then read in one query for all the customers with a match, where each customer's
    first match read them alone."""

    history: ContactHistory
    pending: list[tuple["Arrival", Candidate]] = field(default_factory=list)
    firings: list[tuple[str, str, str]] = field(default_factory=list)
    recorded: list[dict[str, Any]] = field(default_factory=list)

    def add(self, arrival: "Arrival", candidates: list[Candidate]) -> None:
        self.pending += [(arrival, candidate) for candidate in candidates]

    async def decide(self, session: AsyncSession, settings: Settings) -> None:
        pending, self.pending = self.pending, []
        if not pending:
            return
        await self.history.load(candidate.customer_id for _, candidate in pending)
        for arrival, candidate in pending:
            with correlated(arrival.envelope.correlation_id):
                decision = await decide(
                    session,
                    candidate,
                    history=self.history,
                    settings=settings,
                    lineage_events=arrival.lineage(),
                    firings=self.recorded,
                )
            self.firings.append((candidate.live.rule_id, candidate.live.status, decision))


def arrivals_of(
    items: Sequence[tuple[DomainEvent, EventEnvelope]], settings: Settings
) -> list[Arrival]:
    """The run's events about a customer, with their names, moments and business days."""
    arrivals = []
    for event, envelope in items:
        if getattr(event, "customer_id", None) is None:
            continue  # complaints from people who are not customers
        customer_id: uuid.UUID = event.customer_id  # type: ignore[attr-defined]
        fields = folded_fields(event, settings)
        at = occurred_at(fields, envelope)
        name = event_name_of(envelope.type)
        day = business_day(at, settings)
        arrivals.append(Arrival(event, envelope, name, customer_id, fields, at, day))
    return arrivals


async def _follow_up(
    session: AsyncSession,
    arrival: Arrival,
    *,
    settings: Settings,
    unsaved_history: Sequence[dict[str, Any]],
) -> None:
    """What an event does beyond the state: an account opened converts the offers of its
    product made shortly before; an erasure makes the customer forgotten; a reversal
    withdraws what its posting raised, and a complaint the open marketing offers, decided
    earlier in the run or in an earlier one."""
    if arrival.name == "account.opened":
        since_offer = arrival.at - timedelta(days=settings.conversion_days)
        await opportunities_repository.mark_converted(
            session, arrival.customer_id, arrival.at, since_offer
        )
    elif arrival.name == "transaction.reversed":
        assert isinstance(arrival.event, TransactionReversed)
        await outcomes.withdraw_for_reversals(session, [arrival.event], now=arrival.at)
    elif arrival.name == "complaint.received":
        assert isinstance(arrival.event, ComplaintReceived)
        await outcomes.withdraw_for_complaint(session, arrival.event, now=arrival.at)
    elif arrival.name == "customer.erased":
        await forget_customer(
            session, arrival.customer_id, now=arrival.at, unsaved_history=unsaved_history
        )


def observed_row(event: DomainEvent, envelope: EventEnvelope, at: datetime) -> dict[str, Any]:
    """The event's row in the consumed history."""
    topic, partition, offset = envelope.position or (None, None, None)
    return {
        "event_id": envelope.id,
        "customer_id": event.customer_id,  # type: ignore[attr-defined]
        "event_name": event_name_of(envelope.type),
        "occurred_at": at,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "payload": event.model_dump_json(),
    }
