"""Outbound calling: the call list fed by the detector's opportunities, the calling rules
(consent, do-not-call, calling hours, attempts), the do-not-call register, and the projection
of ``crm.opportunities.v1``. No HTTP, no Kafka, no commit."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.contact_center import CallResult, OutboundAttempted
from contracts.customer import InteractionRecorded
from contracts.opportunities import OpportunityCreated
from services.contact_center.calls.events_client import EVENTS_SERVICE, EventsClient
from services.contact_center.calls.schemas import Ranking
from services.contact_center.config import Settings
from services.contact_center.errors import CallingRuleRefused, EntryNotFound
from services.contact_center.known_customers import repository as known_customers_repository
from services.contact_center.models import KnownCustomer, OutboundEntry, OutboundStatus
from services.contact_center.outbound import repository as outbound_repository
from services.contact_center.outbound.schemas import OutboundAttempt
from shared.outbox import record_events
from shared.problems import get_or_404

CONTACT_CENTRE_OWNER = "contact_center"
# Results that settle an entry; after the others it is tried again later.
FINAL_RESULTS: frozenset[str] = frozenset({"accepted", "declined", "wrong_number"})
# Results where the customer was spoken to: a contact on their timeline.
SPOKEN_RESULTS: frozenset[str] = frozenset({"reached", "accepted", "declined"})
SERVICE_RECOVERY = "service_recovery"
# Opportunity statuses that take an entry off the list when the detector reports them:
# settled by its manager, run out, or withdrawn (a complaint arrived, the transaction that
# raised it was reversed).
CLOSED_ELSEWHERE: frozenset[str] = frozenset({"accepted", "declined", "expired", "withdrawn"})


def within_calling_hours(now: datetime, settings: Settings) -> bool:
    local = now.astimezone(settings.calling_zone).time()
    return settings.calling_hours_start <= local < settings.calling_hours_end


def calling_hours_text(settings: Settings) -> str:
    start, end = settings.calling_hours_start, settings.calling_hours_end
    return f"{start:%H:%M}-{end:%H:%M} {settings.calling_time_zone}"


def blocked_by(
    entry: OutboundEntry,
    customer: KnownCustomer | None,
    on_do_not_call: bool,
    *,
    now: datetime,
    settings: Settings,
) -> str | None:
    """The first calling rule that forbids calling about this entry now, or None."""
    if entry.status != OutboundStatus.PENDING:
        return str(entry.status)
    if now >= entry.expires_at:
        return "expired"
    if entry.attempts >= settings.max_call_attempts:
        return "max_attempts"
    if customer is not None and customer.status == "closed":
        return "customer_closed"
    if on_do_not_call:
        return "do_not_call"
    if customer is None or customer.consent.get(settings.consent_channel) is not True:
        return "no_consent"
    if not within_calling_hours(now, settings):
        return "outside_calling_hours"
    if entry.next_attempt_at is not None and now < entry.next_attempt_at:
        return "retry_later"
    return None


async def rules_for(
    session: AsyncSession, entry: OutboundEntry, *, now: datetime, settings: Settings
) -> str | None:
    customer = await known_customers_repository.known_customer(session, entry.customer_id)
    listed = await outbound_repository.do_not_call(session, entry.customer_id) is not None
    return blocked_by(entry, customer, listed, now=now, settings=settings)


@dataclass(frozen=True)
class ToCall:
    entry: OutboundEntry
    # As the next-best-action ranking computes it; None when it does not rank the entry.
    expected_value: Decimal | None


@dataclass(frozen=True)
class CallList:
    items: list[ToCall]
    ordered_by: str  # "next_best_action", or "priority" when the ranking could not be had
    degraded: list[str]


async def call_list(
    session: AsyncSession, *, now: datetime, settings: Settings, limit: int, events: EventsClient
) -> CallList:
    """Who to call now, in the order of the next-best-action ranking; empty outside calling
    hours. Without the ranking (the events service slow or away), by priority."""
    if not within_calling_hours(now, settings):
        return CallList([], "next_best_action", [])
    candidates = await outbound_repository.callable_entries(
        session,
        now=now,
        max_attempts=settings.max_call_attempts,
        consent_channel=settings.consent_channel,
        limit=max(limit, settings.call_list_candidates),
    )
    rankings = await _rankings({e.customer_id for e in candidates}, events, settings)
    if rankings is None:
        by_priority = [ToCall(e, None) for e in candidates[:limit]]
        return CallList(by_priority, "priority", [EVENTS_SERVICE])
    return CallList(in_ranking_order(candidates, rankings)[:limit], "next_best_action", [])


async def _rankings(
    customers: set[uuid.UUID], events: EventsClient, settings: Settings
) -> dict[uuid.UUID, Ranking] | None:
    """Each customer's ranking for the phone; None unless every one came in time."""
    gate = asyncio.Semaphore(settings.call_list_ranking_concurrency)

    async def ranking_of(customer_id: uuid.UUID) -> Ranking | None:
        async with gate:
            return await events.next_best_actions(customer_id)

    order = sorted(customers)
    try:
        async with asyncio.timeout(settings.call_list_ranking_seconds):
            found = await asyncio.gather(*(ranking_of(c) for c in order))
    except TimeoutError:
        return None
    if any(r is None for r in found):
        return None
    return {c: r for c, r in zip(order, found, strict=True) if r is not None}


def in_ranking_order(
    entries: list[OutboundEntry], rankings: dict[uuid.UUID, Ranking]
) -> list[ToCall]:
    """The entries as the ranking orders them across customers: service recovery first, then
    the expected value, then the earliest due. An entry the ranking withholds (an open
    complaint, no consent for the phone, the customer not active) is not called; one it does
    not know (the customer or the opportunity not yet at the detector) follows the ranked
    ones, by priority, as the list was before."""
    ranked: list[tuple[tuple[bool, Decimal, datetime, uuid.UUID], ToCall]] = []
    unknown: list[ToCall] = []
    for entry in entries:
        ranking = rankings[entry.customer_id]
        if any(w.opportunity_id == entry.opportunity_id for w in ranking.withheld):
            continue
        item = next((i for i in ranking.items if i.opportunity_id == entry.opportunity_id), None)
        if item is None:
            unknown.append(ToCall(entry, None))
            continue
        value = item.factors.expected_value
        key = (item.kind != SERVICE_RECOVERY, -value, entry.due_at, entry.id)
        ranked.append((key, ToCall(entry, value)))
    ranked.sort(key=lambda pair: pair[0])
    return [to_call for _, to_call in ranked] + unknown


async def entry(
    session: AsyncSession, entry_id: uuid.UUID, *, for_update: bool = False
) -> OutboundEntry:
    return await get_or_404(
        outbound_repository.outbound_entry(session, entry_id, for_update=for_update),
        EntryNotFound(f"no call-list entry {entry_id}"),
    )


async def record_attempt(
    session: AsyncSession,
    entry_id: uuid.UUID,
    body: OutboundAttempt,
    at: datetime,
    *,
    settings: Settings,
) -> OutboundEntry:
    """One dial about an entry. Refused (409 ``calling-rule``) when a rule forbids the call:
    the desk should not have dialled, and the bank must be able to show it did not."""
    found = await entry(session, entry_id, for_update=True)
    rule = await rules_for(session, found, now=at, settings=settings)
    if rule is not None:
        raise CallingRuleRefused(f"calling about this entry is not allowed now: {rule}", rule=rule)
    found.attempts += 1
    found.last_result = body.result
    if body.result in FINAL_RESULTS:
        found.status, found.next_attempt_at = OutboundStatus.DONE, None
    elif found.attempts >= settings.max_call_attempts:
        found.status, found.next_attempt_at = OutboundStatus.EXHAUSTED, None
    else:
        found.next_attempt_at = at + timedelta(minutes=settings.retry_after_minutes)
    result: CallResult = body.result
    attempt_id = uuid.uuid4()
    events: list[OutboundAttempted | InteractionRecorded] = [
        OutboundAttempted(
            customer_id=found.customer_id,
            attempt_id=attempt_id,
            opportunity_id=found.opportunity_id,
            result=result,
            attempt=found.attempts,
            agent_id=body.agent_id,
            attempted_at=at,
        )
    ]
    if body.result in SPOKEN_RESULTS:
        events.append(
            InteractionRecorded(
                customer_id=found.customer_id,
                interaction_id=attempt_id,
                channel="phone",
                kind=f"outbound_call:{found.action}",
                occurred_at=at,
            )
        )
    await record_events(session, events)
    return found


async def note_opportunity(
    session: AsyncSession, event: OpportunityCreated, *, now: datetime
) -> None:
    if event.owner != CONTACT_CENTRE_OWNER:
        return
    await outbound_repository.add_outbound_entry(
        session,
        {
            "id": uuid.uuid4(),
            "opportunity_id": event.opportunity_id,
            "customer_id": event.customer_id,
            "rule_id": event.rule_id,
            "action": event.action,
            "product": event.product,
            "priority": event.priority,
            "facts": event.facts,
            "due_at": event.due_at,
            "expires_at": event.expires_at,
            "status": OutboundStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": None,
            "last_result": None,
            "created_at": now,
        },
    )


async def note_opportunity_status(
    session: AsyncSession, opportunity_id: uuid.UUID, status: str, outcome: str | None
) -> None:
    """An opportunity closed elsewhere takes its entry off the list, with the reason the
    detector gave (its outcome), else the status it reached."""
    if status in CLOSED_ELSEWHERE:
        reason = outcome or f"opportunity_{status}"
        await outbound_repository.withdraw_outbound_entry(session, opportunity_id, reason=reason)


async def add_to_do_not_call(
    session: AsyncSession, customer_id: uuid.UUID, reason: str | None, source: str, *, now: datetime
) -> None:
    await outbound_repository.add_do_not_call(
        session, {"customer_id": customer_id, "reason": reason, "source": source, "added_at": now}
    )
