"""Receiving a complaint: step 1 of the procedure, or a further submission linked to the
customer's open case of the same category.

No HTTP and no Kafka here, and no commit: the caller (a request, a message) owns the
transaction, and the events are written to the outbox inside it."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.complaints import ComplaintReceived, ComplaintStepCompleted
from services.complaints.config import Settings
from services.complaints.deadlines import BusinessCalendar, ClockStart
from services.complaints.letters import service as letters_service
from services.complaints.letters.wording import DEFAULT_LANGUAGE
from services.complaints.models import (
    Complaint,
    ComplaintPriority,
    ComplaintStatus,
    HistoryEntry,
)
from services.complaints.procedure import ComplaintStep
from services.complaints.repository import complaints as complaints_repository
from services.complaints.schemas import ComplaintCreate
from services.complaints.staff import Staff
from shared.outbox import record_events
from shared.problems import Conflict, InvalidField

# A channel's clock may run a little ahead of ours; more than this is a wrong timestamp.
CLOCK_SKEW = timedelta(minutes=5)


def prioritise(
    tier: str | None, category: str, channel: str, *, settings: Settings
) -> ComplaintPriority:
    """The most urgent of what the tier, the category and the channel each call for."""
    candidates = [
        ComplaintPriority.NORMAL,
        settings.priority_by_tier.get(tier or ""),
        settings.priority_by_category.get(category),
        settings.priority_by_channel.get(channel),
    ]
    return max((c for c in candidates if c is not None), key=lambda p: p.rank)


@dataclass(frozen=True)
class Received:
    complaint: Complaint
    linked_to_open_case: bool


@dataclass(frozen=True)
class _Actor:
    """Who recorded the submission: a member of staff, or the channel it came through."""

    actor_id: str
    actor_role: str


async def receive_complaint(
    session: AsyncSession,
    body: ComplaintCreate,
    *,
    settings: Settings,
    now: datetime,
    staff: Staff | None = None,
) -> Received:
    """Record a complaint (step 1), or link it to the customer's open case of its category."""
    received_at = body.received_at or now
    if received_at > now + CLOCK_SKEW:
        raise InvalidField("received_at", "is in the future")
    actor = (
        _Actor(staff.staff_id, staff.role.value)
        if staff
        else _Actor(f"channel:{body.channel}", "channel")
    )
    if body.customer_id is not None:
        existing = await complaints_repository.open_case_of(
            session, body.customer_id, body.category
        )
        if existing is not None:
            return await _link(session, existing, body, actor=actor, now=now)
    values = await _new_case(session, body, received_at=received_at, settings=settings)
    if not await complaints_repository.insert_unless_open_case(session, values):
        # Another channel opened the same case a moment ago; its row is committed now.
        assert body.customer_id is not None, "only a customer's case can collide"
        existing = await complaints_repository.open_case_of(
            session, body.customer_id, body.category
        )
        if existing is None:
            raise Conflict("the customer's open case changed meanwhile; retry")
        return await _link(session, existing, body, actor=actor, now=now)
    case = await complaints_repository.complaint(session, values["id"])
    assert case is not None
    complaints_repository.add_history(
        session,
        HistoryEntry(
            complaint_id=case.id,
            action="record",
            from_step=None,
            to_step=ComplaintStep.VALIDITY,
            actor_id=actor.actor_id,
            actor_role=actor.actor_role,
            decision={
                "priority": values["priority"],
                "customer_tier": values["customer_tier"],
                "call_id": body.call_id,
            },
            note=None,
            at=received_at,
        ),
    )
    await record_events(session, received_events(case, ComplaintStep.VALIDITY, now))
    await letters_service.acknowledge(session, case, issued_by=actor.actor_id, now=now)
    return Received(case, linked_to_open_case=False)


async def _new_case(
    session: AsyncSession, body: ComplaintCreate, *, received_at: datetime, settings: Settings
) -> dict[str, Any]:
    """The new case's row: its priority, its deadlines from the regulatory pack, and whether
    it repeats a matter closed a short while ago."""
    pack, calendar = settings.pack, BusinessCalendar.of(settings.pack)
    customer_id = body.customer_id
    tier = await complaints_repository.customer_tier(session, customer_id) if customer_id else None
    rule = pack.decision_rule(body.category, settings.decision_overrides)
    acknowledge_by = calendar.due(received_at, pack.acknowledgement)
    decide_by = (
        calendar.due(received_at, rule.period)
        if pack.decision_clock is ClockStart.RECEIPT
        else None
    )
    last_closed = (
        await complaints_repository.last_closed_at(session, customer_id, body.category)
        if customer_id
        else None
    )
    return {
        "id": uuid.uuid4(),
        "customer_id": customer_id,
        "complainant": body.complainant.model_dump() if body.complainant else None,
        "channel": body.channel,
        "category": body.category,
        "cause": body.cause,
        "description": body.description,
        "disputed_amount": body.disputed_amount.amount if body.disputed_amount else None,
        "disputed_currency": body.disputed_amount.currency if body.disputed_amount else None,
        "transaction_ids": body.transaction_ids,
        "attachments": [a.model_dump() for a in body.attachments],
        "call_id": body.call_id,
        "priority": prioritise(tier, body.category, body.channel, settings=settings),
        "customer_tier": tier,
        "status": ComplaintStatus.OPEN,
        "step": ComplaintStep.VALIDITY,
        "deadline_pack": pack.code,
        "language": body.language or DEFAULT_LANGUAGE[pack.code],
        "received_at": received_at,
        "acknowledge_by": acknowledge_by,
        "decide_by": decide_by,
        "extensions_used": 0,
        "step_due_at": acknowledge_by,
        "escalation_level": 0,
        "reopen_count": 0,
        "linked_count": 0,
        "is_repeat": last_closed is not None
        and last_closed >= received_at - timedelta(days=settings.repeat_within_days),
    }


def received_events(
    case: Complaint, step: ComplaintStep, now: datetime
) -> list[ComplaintReceived | ComplaintStepCompleted]:
    """A case received, and recorded: on receipt, and again when a closed case reopens."""
    due = case.step_due_at or case.acknowledge_by
    return [
        ComplaintReceived(
            complaint_id=case.id,
            customer_id=case.customer_id,
            channel=case.channel,
            category=case.category,
            priority=case.priority,
            received_at=now,
            due_at=due,
        ),
        ComplaintStepCompleted(
            complaint_id=case.id,
            customer_id=case.customer_id,
            step=ComplaintStep.RECORD,
            next_step=step,
            completed_at=now,
            due_at=case.step_due_at,
        ),
    ]


async def _link(
    session: AsyncSession,
    case: Complaint,
    body: ComplaintCreate,
    *,
    actor: _Actor,
    now: datetime,
) -> Received:
    case.linked_count += 1
    complaints_repository.add_history(
        session,
        HistoryEntry(
            complaint_id=case.id,
            action="linked_submission",
            from_step=case.step,
            to_step=case.step,
            actor_id=actor.actor_id,
            actor_role=actor.actor_role,
            decision={
                "channel": body.channel,
                "call_id": body.call_id,
                "transaction_ids": body.transaction_ids,
            },
            note=body.description,
            at=now,
        ),
    )
    return Received(case, linked_to_open_case=True)
