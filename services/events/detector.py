"""The detector's rules for turning a match into an opportunity: suppression, the control
group, priority, owner, lineage. No HTTP, no Kafka, no commit.

Every decision is taken at the moment's own time (the event's, or the scheduler's tick), never
the wall clock, so replaying the topics reaches the same opportunities as the live run."""

import functools
import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.opportunities import OpportunityCreated
from services.events.config import Settings
from services.events.evaluation import Match, Moment, evaluate, event_screen
from services.events.repository import opportunities as opportunities_repository
from services.events.rules import Action, ActionKind, RuleDefinition
from services.events.state import ERASED, CustomerState, window
from shared.outbox import record_event


@dataclass(frozen=True)
class LiveRule:
    rule_id: str
    version: int
    status: str  # "active" or "shadow"
    definition: RuleDefinition
    # The acceptance its action's model has learned across customers, as of the rule book's
    # last refresh (``RuleBook.live``); None: the catalogue's prior.
    learned_propensity: Decimal | None = field(default=None, compare=False)

    def listens_to(self, event_name: str | None) -> bool:
        trigger = self.definition.trigger
        return trigger.schedule if event_name is None else event_name in trigger.events

    @functools.cached_property
    def screen(self) -> Callable[[dict[str, Any]], bool]:
        """Whether an event's fields pass the rule's conditions on them: most events fail
        one, and this tells so without evaluating the rest (see :func:`event_screen`)."""
        return event_screen(self.definition)


def in_control_group(rule_id: str, customer_id: str, share: float) -> bool:
    """Deterministic from the customer id: the same customer is always in or out of a rule's
    control group, on every replica and in every replay."""
    digest = hashlib.sha256(f"{rule_id}:{customer_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def priority_of(rule: RuleDefinition, state: CustomerState, settings: Settings) -> int:
    bonus = settings.priority_by_tier.get(state.value_tier or "", 0)
    return max(1, min(100, rule.priority + bonus))


def recent_conversations(state: CustomerState, day: date, settings: Settings) -> int:
    """The customer's conversations with the bank (calls in and out, callbacks, visits) in the
    contact-fatigue window ending with ``day``: the cap counts them beside the offers made."""
    return sum(f.conversations for f in window(state, day, settings.fatigue_window_days))


def reached(control_group: bool, action: str) -> bool:
    """Whether a stored opportunity counts against the fatigue cap: it was offered (not held
    out) and it was marketing (not service recovery)."""
    return not control_group and action != ActionKind.SERVICE_RECOVERY


@dataclass
class _Contacts:
    """One customer's earlier opportunities, as far as suppression asks about them."""

    facts: set[str] = field(default_factory=set)
    last_by_rule: dict[str, datetime] = field(default_factory=dict)
    marketing: list[datetime] = field(default_factory=list)  # contacted, not service recovery

    def add(self, rule_id: str, dedupe_key: str, at: datetime, *, contacted: bool) -> None:
        self.facts.add(dedupe_key)
        last = self.last_by_rule.get(rule_id)
        if last is None or at > last:
            self.last_by_rule[rule_id] = at
        if contacted:
            self.marketing.append(at)


@dataclass
class ContactHistory:
    """What suppression asks about earlier decisions, kept for one run of decisions.

    Live (with a session), a customer's opportunities are read from the table once, at their
    first match in the run, and what the run opens is added as it goes: one query per
    customer that fires instead of three per match. A backtest (no session) starts from
    nothing and knows only what it decided itself."""

    session: AsyncSession | None = None
    _customers: dict[uuid.UUID, _Contacts] = field(default_factory=dict)

    async def _of(self, customer_id: uuid.UUID) -> _Contacts:
        contacts = self._customers.get(customer_id)
        if contacts is None:
            contacts = self._customers[customer_id] = _Contacts()
            if self.session is not None:
                for row in await opportunities_repository.contacts_of(self.session, customer_id):
                    contacts.add(
                        row.rule_id,
                        row.dedupe_key,
                        row.created_at,
                        contacted=reached(row.control_group, row.action),
                    )
        return contacts

    async def load(self, customer_ids: Iterable[uuid.UUID]) -> None:
        """Read the opportunities of those of these customers not known yet, in one query:
        a run's matches are decided together, and one read per customer was a round trip
        per firing customer."""
        missing = [c for c in set(customer_ids) if c not in self._customers]
        for customer_id in missing:
            self._customers[customer_id] = _Contacts()
        if self.session is None or not missing:
            return
        for row in await opportunities_repository.contacts_of_many(self.session, missing):
            self._customers[row.customer_id].add(
                row.rule_id,
                row.dedupe_key,
                row.created_at,
                contacted=reached(row.control_group, row.action),
            )

    async def has_facts(self, customer_id: uuid.UUID, dedupe_key: str) -> bool:
        return dedupe_key in (await self._of(customer_id)).facts

    async def last_for_rule(self, customer_id: uuid.UUID, rule_id: str) -> datetime | None:
        """When the rule last reached (or held out) this customer: the cool-down's start."""
        return (await self._of(customer_id)).last_by_rule.get(rule_id)

    async def marketing_contacts_since(self, customer_id: uuid.UUID, since: datetime) -> int:
        return sum(1 for at in (await self._of(customer_id)).marketing if at >= since)

    async def record(
        self,
        customer_id: uuid.UUID,
        rule_id: str,
        dedupe_key: str,
        at: datetime,
        *,
        contacted: bool,
    ) -> None:
        (await self._of(customer_id)).add(rule_id, dedupe_key, at, contacted=contacted)


@dataclass(frozen=True)
class Candidate:
    """What a decision is about: a live rule's match for one customer, on their state as it
    stood at the moment (an arriving event, or the scheduler's tick) the rule fired."""

    live: LiveRule
    match: Match
    state: CustomerState
    moment: Moment
    # Counted when the rule matched: later events of the run change the day rows in place.
    conversations: int

    @property
    def customer_id(self) -> uuid.UUID:
        return uuid.UUID(self.state.customer_id)


async def suppression(
    history: ContactHistory,
    match: Match,
    *,
    rule_id: str,
    rule: RuleDefinition,
    state: CustomerState,
    at: datetime,
    conversations: int,
    settings: Settings,
) -> tuple[str | None, list[str]]:
    """The first check the match fails (or None), and the checks it passed, in order. The
    contact-fatigue cap counts the marketing offers made within the window and the
    ``conversations`` (see :func:`recent_conversations`)."""
    passed: list[str] = []
    customer_id = uuid.UUID(state.customer_id)
    if state.status == ERASED:
        # Before any check, and not one a match can pass: service recovery needs no consent,
        # but an erased customer is no one to contact at all.
        return "customer_erased", passed
    if await history.has_facts(customer_id, match.dedupe_key):
        return "duplicate_facts", passed
    passed.append("duplicate_facts")
    last = await history.last_for_rule(customer_id, rule_id)
    if last is not None and at - last < timedelta(days=rule.cooldown_days):
        return "cooldown", passed
    passed.append("cooldown")
    if not rule.action.kind.is_marketing:
        return None, passed
    if state.open_complaints > 0:
        return "open_complaint", passed
    passed.append("open_complaint")
    if state.consent.get(rule.action.channel) is not True:
        return "no_consent", passed
    passed.append("consent")
    since = at - timedelta(days=settings.fatigue_window_days)
    offers = await history.marketing_contacts_since(customer_id, since)
    if offers + conversations >= settings.fatigue_cap:
        return "contact_fatigue", passed
    passed.append("contact_fatigue")
    return None, passed


async def decide(
    session: AsyncSession,
    candidate: Candidate,
    *,
    history: ContactHistory,
    settings: Settings,
    lineage_events: list[dict[str, Any]],
    firings: list[dict[str, Any]],
) -> str:
    """Open the opportunity for an active version, and add the firing to ``firings`` for the
    caller to record with the run's others; returns the decision. ``history`` is the run's:
    what this decision opens is added to it."""
    live, match, state, at = candidate.live, candidate.match, candidate.state, candidate.moment.at
    failed, passed = await suppression(
        history,
        match,
        rule_id=live.rule_id,
        rule=live.definition,
        state=state,
        at=at,
        conversations=candidate.conversations,
        settings=settings,
    )
    shadow = live.status == "shadow"
    opportunity_id: uuid.UUID | None = None
    if failed is not None:
        decision = f"{'would_suppress' if shadow else 'suppressed'}:{failed}"
    elif shadow:
        decision = "would_create"
    else:
        held_out = in_control_group(
            live.rule_id, state.customer_id, float(live.definition.holdout_share)
        )
        lineage = {
            "rule_id": live.rule_id,
            "rule_version": live.version,
            "events": lineage_events,
            "checks_passed": passed,
            "control_group": held_out,
            "evaluated_at": at.isoformat(),
        }
        opportunity_id = await _open(
            session,
            candidate,
            history=history,
            settings=settings,
            held_out=held_out,
            lineage=lineage,
        )
        decision = "held_out" if held_out else "created"
    firings.append(_firing(candidate, decision, opportunity_id))
    return decision


def _firing(
    candidate: Candidate, decision: str, opportunity_id: uuid.UUID | None
) -> dict[str, Any]:
    live = candidate.live
    return {
        "rule_id": live.rule_id,
        "rule_version": live.version,
        "mode": live.status,
        "customer_id": candidate.customer_id,
        "dedupe_key": candidate.match.dedupe_key,
        "decision": decision,
        "opportunity_id": opportunity_id,
        "fired_at": candidate.moment.at,
    }


def _owner(action: Action, state: CustomerState) -> tuple[str, str | None]:
    """Who is to act on the opportunity, and which of them by id (none for a team)."""
    owner, owner_id = action.owner, state.manager_id
    if owner == "manager" and owner_id is None:
        owner = "contact_center"  # no manager yet: the contact centre calls
    if owner == "contact_center":
        owner_id = None
    return owner, owner_id


async def _open(
    session: AsyncSession,
    candidate: Candidate,
    *,
    history: ContactHistory,
    settings: Settings,
    held_out: bool,
    lineage: dict[str, Any],
) -> uuid.UUID | None:
    live, match, at = candidate.live, candidate.match, candidate.moment.at
    action = live.definition.action
    owner, owner_id = _owner(action, candidate.state)
    opportunity_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": opportunity_id,
        "dedupe_key": match.dedupe_key,
        "customer_id": candidate.customer_id,
        "rule_id": live.rule_id,
        "rule_version": live.version,
        "action": action.kind.value,
        "product": action.product,
        "priority": priority_of(live.definition, candidate.state, settings),
        "owner": owner,
        "owner_id": owner_id,
        "channel": action.channel,
        "due_at": at + timedelta(hours=action.due_in_hours),
        "expires_at": at + timedelta(hours=action.expires_in_hours),
        # A held-out customer is recorded, never contacted: the control group.
        "status": "held_out" if held_out else "open",
        "outcome": None,
        "control_group": held_out,
        "facts": match.facts,
        "lineage": lineage,
        "created_at": at,
        "updated_at": at,
    }
    if not await opportunities_repository.insert_opportunity(session, values):
        return None
    await history.record(
        candidate.customer_id,
        live.rule_id,
        match.dedupe_key,
        at,
        contacted=not held_out and action.kind.is_marketing,
    )
    if not held_out:
        await record_event(session, _created(values))
    return opportunity_id


def _created(row: dict[str, Any]) -> OpportunityCreated:
    """The event of an opportunity opened: what its row says, for its owner to act on."""
    owner_id = row["owner_id"]
    return OpportunityCreated(
        opportunity_id=row["id"],
        customer_id=row["customer_id"],
        rule_id=row["rule_id"],
        rule_version=row["rule_version"],
        action=row["action"],
        product=row["product"],
        priority=row["priority"],
        owner=row["owner"],
        owner_id=uuid.UUID(owner_id) if owner_id else None,
        channel=row["channel"],
        due_at=row["due_at"],
        expires_at=row["expires_at"],
        facts=row["facts"],
    )


async def judge(
    session: AsyncSession,
    live: LiveRule,
    state: CustomerState,
    moment: Moment,
    *,
    history: ContactHistory,
    settings: Settings,
    lineage_events: list[dict[str, Any]],
    firings: list[dict[str, Any]],
) -> list[str]:
    """Evaluate one live rule on one customer's state at the moment, and decide on each of
    its matches; the decisions, in order."""
    return [
        await decide(
            session,
            Candidate(
                live, match, state, moment, recent_conversations(state, moment.day, settings)
            ),
            history=history,
            settings=settings,
            lineage_events=lineage_events,
            firings=firings,
        )
        for match in evaluate(live.rule_id, live.definition, state, moment)
    ]
