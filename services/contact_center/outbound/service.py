"""Outbound calling: the call list fed by the detector's opportunities, the calling rules
(consent, do-not-call, calling hours, attempts), the do-not-call register, and the projection
of ``crm.opportunities.v1``. No HTTP, no Kafka, no commit."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.contact_center import CallResult, OutboundAttempted
from contracts.customer import InteractionRecorded
from contracts.opportunities import OpportunityCreated
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


async def call_list(
    session: AsyncSession, *, now: datetime, settings: Settings, limit: int
) -> list[OutboundEntry]:
    """Who to call now, most urgent first; empty outside calling hours."""
    if not within_calling_hours(now, settings):
        return []
    return await outbound_repository.callable_entries(
        session,
        now=now,
        max_attempts=settings.max_call_attempts,
        consent_channel=settings.consent_channel,
        limit=limit,
    )


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
