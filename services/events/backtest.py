"""Backtests: a rule run over the history the service kept, emitting nothing.

The history is replayed through the same state and evaluation code as the live consumer, in
memory, from a warm-up year before the period (so the windows are full on its first day), and
in the order the detector consumed it, so that over the live period it reaches the live
decisions.
Suppression is simulated from the same state: duplicates, the rule's cool-down, open
complaints, consent, the control group and the contact-fatigue cap. The cap counts this
rule's own contacts as the backtest decides them and the other rules' as the detector really
made them (their opportunities), each from where the detector first knew of it: after the
event it was opened on was consumed (or before it, for a rule the detector judged earlier on
the same event), or from its time for one opened on the scheduler's tick."""

import uuid
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.events.config import Settings
from services.events.detector import (
    ContactHistory,
    in_control_group,
    reached,
    recent_conversations,
    suppression,
)
from services.events.errors import BacktestTooLarge
from services.events.evaluation import Match, Moment, evaluate
from services.events.repository import opportunities as opportunities_repository
from services.events.repository import states as states_repository
from services.events.rules import CONSUMED_EVENTS, RuleDefinition
from services.events.schemas import BacktestReport
from services.events.service import business_day, folded_fields
from services.events.state import MAX_WINDOW_DAYS, CustomerState, apply_event

EXAMPLES = 10
_Contact = opportunities_repository.OtherContact


@dataclass(frozen=True)
class Decision:
    """One match and what the live detector would have done with it, in the terms of its
    firings: ``created``, ``held_out`` or ``suppressed:<check>``."""

    customer_id: uuid.UUID
    dedupe_key: str
    at: datetime
    decision: str


@dataclass(frozen=True)
class Backtest:
    """The report, and each decision behind its figures in the order they were taken."""

    report: BacktestReport
    decisions: list[Decision]


@dataclass
class _OtherRules:
    """The other rules' opportunities, per customer, not yet known to the replay: those
    opened on a consumed event in the order the detector judged them, those opened on the
    scheduler's tick in the order of their time."""

    rule_id: str
    on_events: dict[uuid.UUID, deque[_Contact]] = field(default_factory=dict)
    on_ticks: dict[uuid.UUID, deque[_Contact]] = field(default_factory=dict)

    @classmethod
    def of(cls, rule_id: str, rows: Sequence[_Contact]) -> "_OtherRules":
        others = cls(rule_id)
        for row in rows:
            queues = others.on_ticks if row.consumed_seq is None else others.on_events
            queues.setdefault(row.customer_id, deque()).append(row)
        return others

    async def tell(
        self, decided: ContactHistory, customer_id: uuid.UUID, *, consumed_seq: int, at: datetime
    ) -> None:
        """Tell ``decided`` what the detector knew of the customer's other contacts when it
        judged this rule on the event consumed at ``consumed_seq``: what was opened on earlier
        events, and on this one by the rules judged before this rule (the rule book judges an
        event's rules in the order of their ids)."""
        place = (consumed_seq, self.rule_id)
        on_events = self.on_events.get(customer_id)
        while on_events and (on_events[0].consumed_seq, on_events[0].rule_id) < place:
            await self._add(decided, on_events.popleft())
        on_ticks = self.on_ticks.get(customer_id)
        while on_ticks and on_ticks[0].created_at <= at:
            await self._add(decided, on_ticks.popleft())

    @staticmethod
    async def _add(decided: ContactHistory, row: _Contact) -> None:
        contacted = reached(row.control_group, row.action)
        await decided.record(
            row.customer_id, row.rule_id, row.dedupe_key, row.created_at, contacted=contacted
        )


@dataclass
class _Run:
    """One backtest's tally, and the decisions it took itself (suppression asks about them)."""

    rule_id: str
    rule: RuleDefinition
    settings: Settings
    decided: ContactHistory = field(default_factory=ContactHistory)
    decisions: list[Decision] = field(default_factory=list)
    suppressed: Counter[str] = field(default_factory=Counter)
    customers: set[uuid.UUID] = field(default_factory=set)
    examples: list[dict[str, Any]] = field(default_factory=list)
    scanned: int = 0
    matches: int = 0
    opened: int = 0
    held_out: int = 0

    async def judge(self, match: Match, *, state: CustomerState, moment: Moment) -> None:
        """What the live detector would decide on the match, without opening anything."""
        rule_id, rule = self.rule_id, self.rule
        self.matches += 1
        reason, _ = await suppression(
            self.decided,
            match,
            rule_id=rule_id,
            rule=rule,
            state=state,
            at=moment.at,
            conversations=recent_conversations(state, moment.day, self.settings),
            settings=self.settings,
        )
        customer_id = uuid.UUID(state.customer_id)
        if reason:
            self.suppressed[reason] += 1
            self._decided(customer_id, match, moment, f"suppressed:{reason}")
            return
        self.customers.add(customer_id)
        control = in_control_group(rule_id, state.customer_id, float(rule.holdout_share))
        await self.decided.record(
            customer_id,
            rule_id,
            match.dedupe_key,
            moment.at,
            contacted=not control and rule.action.kind.is_marketing,
        )
        if control:
            self.held_out += 1
            self._decided(customer_id, match, moment, "held_out")
            return
        self.opened += 1
        self._decided(customer_id, match, moment, "created")
        if len(self.examples) < EXAMPLES:
            example = {"customer_id": state.customer_id, "at": moment.at.isoformat()}
            self.examples.append({**example, "facts": match.facts})

    def _decided(self, customer_id: uuid.UUID, match: Match, moment: Moment, decision: str) -> None:
        self.decisions.append(Decision(customer_id, match.dedupe_key, moment.at, decision))


async def backtest(
    session: AsyncSession,
    rule_id: str,
    version: int | None,
    rule: RuleDefinition,
    *,
    start: datetime,
    end: datetime,
    settings: Settings,
) -> Backtest:
    warm_up = start - timedelta(days=MAX_WINDOW_DAYS)
    total = await states_repository.history_size(session, warm_up, end)
    if total > settings.backtest_max_events:
        raise BacktestTooLarge(
            f"{total} events in the period and its warm-up year; the limit is "
            f"{settings.backtest_max_events}: choose a shorter period",
            field="to",
        )
    states: dict[uuid.UUID, CustomerState] = {}
    run = _Run(rule_id, rule, settings)
    # Only contacts this recent can count against the cap on the period's first day.
    since = start - timedelta(days=settings.fatigue_window_days)
    others = _OtherRules.of(
        rule_id, await opportunities_repository.other_rules_contacts(session, rule_id, since)
    )
    async for observed in states_repository.history(session, warm_up, end):
        model = CONSUMED_EVENTS.get(observed.event_name)
        if model is None:
            continue
        fields = folded_fields(model.model_validate(observed.payload), settings)
        state = states.setdefault(observed.customer_id, CustomerState(str(observed.customer_id)))
        day = business_day(observed.occurred_at, settings)
        applied = apply_event(state, observed.event_name, fields, at=observed.occurred_at, day=day)
        if observed.occurred_at < start or observed.event_name not in rule.trigger.events:
            continue
        run.scanned += 1
        moment = Moment(
            at=observed.occurred_at,
            day=day,
            event_name=observed.event_name,
            fields=fields,
            event_id=observed.event_id,
            applied=applied,
        )
        matches = evaluate(rule_id, rule, state, moment)
        if matches:
            await others.tell(
                run.decided,
                observed.customer_id,
                consumed_seq=observed.consumed_seq,
                at=observed.occurred_at,
            )
        for match in matches:
            await run.judge(match, state=state, moment=moment)
    report = BacktestReport(
        rule_id=rule_id,
        version=version,
        period_from=start,
        period_to=end,
        events_scanned=run.scanned,
        matches=run.matches,
        customers=len(run.customers),
        opportunities=run.opened,
        held_out=run.held_out,
        suppressed=dict(run.suppressed),
        examples=run.examples,
    )
    return Backtest(report, run.decisions)
